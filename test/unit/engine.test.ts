import { describe, expect, it } from 'vitest';
import { validateDefinition } from '#shared/model/definition.ts';
import { allows, refusalMessage, resumeTransition, transitionCondition } from '#shared/model/run-lifecycle.ts';
import { buildPipeline, evaluateBundle, boundsOf } from '#shared/engine/pipeline.ts';
import { registerSource } from '#shared/engine/registry.ts';
import { httpCollector, type PacketPort } from '#shared/engine/sources/http-collector.ts';
import { decodePacket } from '#shared/engine/formats.ts';
import { mergePartial, partialValue } from '#shared/engine/transforms.ts';
import { nextFire, toCronParser } from '#infra/local/scheduler.ts';
import type { SourceOffset } from '#shared/engine/types.ts';

/** An in-memory packet log standing in for the packets service. */
function memoryPackets(packets: string[]): PacketPort & { push(text: string): void } {
  const log = [...packets];
  return {
    async readPackets(_streamId, afterIndex, max) {
      return log.slice(afterIndex, afterIndex + max).map((text, i) => ({ index: afterIndex + i + 1, data: Buffer.from(text) }));
    },
    async lastPacketIndex() {
      return log.length;
    },
    push(text) {
      log.push(text);
    },
  };
}

const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

async function definitionWith(_source: string, meterConfig?: Record<string, unknown>) {
  return validateDefinition({
    nodes: [
      { id: 'in', type: 'http-collector', config: { format: 'ndjson' } },
      { id: 'f', type: 'filter', config: { expression: 'units > 0' } },
      { id: 'm', type: 'meter', config: meterConfig ?? { groupBy: ['account'], aggregates: { units: { fn: 'sum', field: 'units' }, n: { fn: 'count' }, lo: { fn: 'min', field: 'units' }, hi: { fn: 'max', field: 'units' }, mean: { fn: 'avg', field: 'units' } } } },
      { id: 'out', type: 'aggregation-store', name: 'mem', config: {} },
    ],
    edges: [
      { from: 'in', to: 'f' },
      { from: 'f', to: 'm' },
      { from: 'm', to: 'out' },
    ],
  });

}

async function pipelineOver(port: PacketPort) {
  registerSource('http-collector', (context) => httpCollector(context, port));
  return buildPipeline(await definitionWith('mem'), { stream: { id: `stm_${Math.random()}`, solutionId: 'sol_1' }, runId: 'run_1', mode: 'batch' });
}

describe('the engine on an in-memory packet log', () => {
  it('reads an offset set by hand past the entries of its packet as that packet read, never a negative count', async () => {
    const reader = httpCollector({ stream: { id: `stm_${Math.random()}`, solutionId: 'sol_1' }, node: { id: 'in', type: 'http-collector', config: { format: 'ndjson' } } } as never, memoryPackets([ndjson([{ n: 1 }, { n: 2 }]), ndjson([{ n: 3 }, { n: 4 }])]));
    // With a negative count the bundle would take more than its size (both records here).
    const batch = await reader.read({ packet: 0, entry: 50 }, 1);
    expect(batch.records).toEqual([{ n: 3 }]);
    expect(batch.offset).toEqual({ packet: 1, entry: 1 });
  });

  it('reads bundles across packet boundaries, resumes mid-packet from its offset and aggregates exactly', async () => {
    const records = Array.from({ length: 95 }, (_, i) => ({ account: `a${i % 3}`, units: i % 4 }));
    const packets = [0, 1, 2, 3, 4].map((p) => ndjson(records.slice(p * 19, p * 19 + 19)));
    const pipeline = await pipelineOver(memoryPackets(packets));
    const bounds = await boundsOf(pipeline, {});
    expect(bounds.in).toEqual({ packet: 5, entry: 0 });

    let offsets: Record<string, SourceOffset> = {};
    const sums: Record<string, number> = {};
    let bundles = 0;
    for (;;) {
      const evaluation = await evaluateBundle(pipeline, { offsets, bounds }, 10);
      if (evaluation.consumed === 0) break;
      bundles++;
      offsets = { ...offsets, ...evaluation.offsets };
      for (const update of evaluation.storeUpdates.get('mem') ?? []) sums[update.key] = (sums[update.key] ?? 0) + partialValue(update.partials.units)!;
      if (evaluation.exhausted) break;
    }
    expect(bundles).toBe(10);
    expect(offsets.in).toEqual({ packet: 5, entry: 0 });
    const expected: Record<string, number> = {};
    for (const r of records) if (r.units > 0) expected[r.account] = (expected[r.account] ?? 0) + r.units;
    expect(sums).toEqual(expected);
  });

  it('counts undecodable lines and filter errors as failed with a sample, and stops at the batch bound', async () => {
    const port = memoryPackets([`${JSON.stringify({ account: 'a', units: 2 })}\nnot json\n${JSON.stringify({ account: 'b', units: 'x' })}\n`]);
    const pipeline = await pipelineOver(port);
    const bounds = await boundsOf(pipeline, {});
    port.push(ndjson([{ account: 'late', units: 5 }])); // appended after the batch run started
    const evaluation = await evaluateBundle(pipeline, { offsets: {}, bounds }, 100);
    expect(evaluation.stats.get('in')).toMatchObject({ in: 3, out: 2, failed: 1 });
    expect(evaluation.stats.get('f')).toMatchObject({ in: 2, out: 1, failed: 1 });
    expect(evaluation.failures.map((f) => f.nodeId)).toEqual(['in', 'f']);
    expect(evaluation.exhausted).toBe(true);
    expect(evaluation.storeUpdates.get('mem')!.map((u) => u.key)).toEqual(['a']);
  });

  it('merges partials so min, max and avg survive bundle boundaries', () => {
    const a = { fn: 'avg' as const, sum: 10, count: 4, min: 1, max: 4 };
    const b = { fn: 'avg' as const, sum: 20, count: 1, min: 20, max: 20 };
    const merged = mergePartial(a, b);
    expect(partialValue(merged)).toBe(6);
    expect(partialValue({ ...merged, fn: 'min' })).toBe(1);
    expect(partialValue({ ...merged, fn: 'max' })).toBe(20);
  });

  it('decodes csv with a header or configured columns, json arrays and raw packets', async () => {
    expect(await decodePacket(Buffer.from('a,b\n1,2\n'), 'csv', { index: 1 })).toEqual([{ record: { a: '1', b: '2' } }]);
    expect(await decodePacket(Buffer.from('1,2\n'), 'csv', { index: 1, columns: ['x', 'y'] })).toEqual([{ record: { x: '1', y: '2' } }]);
    expect(await decodePacket(Buffer.from('[{"a":1},{"a":2}]'), 'json', { index: 1 })).toHaveLength(2);
    expect(await decodePacket(Buffer.from('hi'), 'raw', { index: 7 })).toEqual([{ record: { packetIndex: 7, contentType: 'application/octet-stream', size: 2, data: 'aGk=' } }]);
  });

  it('names the packet in failures, or an S3 object with the NDJSON line, and sizes entries when asked (s3-source)', async () => {
    expect(await decodePacket(Buffer.from('nope'), 'ndjson', { index: 4 })).toEqual([{ failure: { message: expect.stringMatching(/^packet 4: not JSON: /), record: 'nope' } }]);
    expect(await decodePacket(Buffer.from('{"a":1}\n\n nope \r\n7'), 'ndjson', { name: 'in/x.ndjson', sizes: true })).toEqual([
      // Raw bytes: each line with its line end, blank lines with the entry after them.
      { record: { a: 1 }, bytes: 8 },
      { failure: { message: expect.stringMatching(/^in\/x\.ndjson line 3: not JSON: /), record: 'nope' }, bytes: 9 },
      { record: { value: 7 }, bytes: 1 },
    ]);
    // Blank lines at the end go with the last entry: the entries add up to the object.
    expect(await decodePacket(Buffer.from('{"a":1}\n\n'), 'ndjson', { name: 'in/v.ndjson', sizes: true })).toEqual([{ record: { a: 1 }, bytes: 9 }]);
    // CSV rows carry their raw bytes: the first with the BOM and header, the last with the blank lines after it, so they add up to the object.
    const csv = Buffer.from('\ufeffa,b\r\n1,"x\ny"\r\n\r\n3,é\r\n\r\n');
    const rows = await decodePacket(csv, 'csv', { name: 'in/y.csv', sizes: true });
    expect(rows).toEqual([
      { record: { a: '1', b: 'x\ny' }, bytes: 3 + 5 + 9 },
      { record: { a: '3', b: 'é' }, bytes: 2 + 6 + 2 },
    ]);
    expect(rows.reduce((n, row) => n + row.bytes!, 0)).toBe(csv.length);
    expect(await decodePacket(Buffer.from('1,2\n3,4'), 'csv', { name: 'in/w.csv', columns: ['x', 'y'], sizes: true })).toEqual([
      { record: { x: '1', y: '2' }, bytes: 4 },
      { record: { x: '3', y: '4' }, bytes: 3 },
    ]);
    // An object that does not parse is one failure: all its bytes were read.
    expect(await decodePacket(Buffer.from('a\n"x'), 'csv', { name: 'in/z.csv', sizes: true })).toEqual([{ failure: { message: expect.stringMatching(/^in\/z\.csv: not CSV: Quote Not Closed/) }, bytes: 4 }]);
  });
});

describe('the run lifecycle table', () => {
  it('allows exactly the documented transitions', () => {
    expect(allows('pause', { status: 'running', desiredStatus: 'running' })).toBe(true);
    expect(allows('pause', { status: 'finished', desiredStatus: 'running' })).toBe(false);
    expect(allows('resume', { status: 'running', desiredStatus: 'running' })).toBe(false);
    expect(resumeTransition({ status: 'running', desiredStatus: 'paused' })).toBe('cancelPause');
    expect(allows('stop', { status: 'paused', desiredStatus: 'paused' })).toBe(true);
    expect(allows('stop', { status: 'stopped', desiredStatus: 'stopped' })).toBe(false);
    expect(refusalMessage('resume', { id: 'run_1', status: 'running', desiredStatus: 'running' })).toBe('run run_1 is running; only a paused run can be resumed');
  });

  it('derives one DynamoDB condition per transition', () => {
    expect(transitionCondition('park')).toEqual({
      expression: '#status IN (:from0) AND #desired IN (:want0)',
      names: { '#status': 'status', '#desired': 'desiredStatus' },
      values: { ':from0': 'running', ':want0': 'paused' },
    });
  });
});

describe('the local scheduler', () => {
  it('turns EventBridge cron into cron-parser fields (day of week 1=SUN)', () => {
    expect(toCronParser('0 2 * * ? *')).toEqual({ cron: '0 2 * * *', year: '*' });
    expect(toCronParser('15 10 ? * 2-6 *')).toEqual({ cron: '15 10 * * 1-5', year: '*' });
    expect(toCronParser('0 8 ? * 1#2 2030')).toEqual({ cron: '0 8 * * 0#2', year: '2030' });
  });

  it('computes the next fire of cron and rate schedules', () => {
    const base = { Name: 's', GroupName: 'default', Target: { Arn: 'x' } };
    const after = new Date('2026-03-01T10:00:30Z');
    expect(nextFire({ ...base, ScheduleExpression: 'cron(* * * * ? *)' }, after)?.toISOString()).toBe('2026-03-01T10:01:00.000Z');
    expect(nextFire({ ...base, ScheduleExpression: 'cron(0 2 * * ? *)' }, after)?.toISOString()).toBe('2026-03-02T02:00:00.000Z');
    expect(nextFire({ ...base, ScheduleExpression: 'cron(0 8 ? * MON *)' }, after)?.toISOString()).toBe('2026-03-02T08:00:00.000Z');
    expect(nextFire({ ...base, ScheduleExpression: 'cron(0 0 1 1 ? 2030)' }, after)?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(nextFire({ ...base, ScheduleExpression: 'rate(5 minutes)', createdAt: after.getTime() } as any, new Date(after.getTime() + 60_000))?.toISOString()).toBe('2026-03-01T10:05:30.000Z');
  });
});
