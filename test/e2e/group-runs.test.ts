import { describe, expect, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';
import { appendNdjson, createStream, ended, expectedTotals, startRun, storeTotals, usageDefinition, usageRecords, waitForRun } from '../support/runs.ts';

/** Group runs over HTTP: order, failure and resume, stop and resume, Prepare failures, racing starts, the ways a group run fails. */

async function waitForGroupRun(key: string, id: string, done: (run: any) => boolean, timeoutMs = 45_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await api('GET', `/v1/group-runs/${id}`, { key });
    expect(res.status, res.text).toBe(200);
    if (done(res.body)) return res.body;
    if (Date.now() > until) throw new Error(`group run ${id} did not get there in ${timeoutMs} ms: ${res.text}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const groupEnded = (run: any) => ['finished', 'failed', 'stopped'].includes(run.status);

async function runsOf(key: string, streamId: string): Promise<any[]> {
  const res = await api('GET', `/v1/streams/${streamId}/runs`, { key });
  expect(res.status, res.text).toBe(200);
  return res.body.items;
}

/** A small batch stream (filter -> meter -> its own aggregation store) with `count` records appended. */
async function usageStream(
  key: string,
  count: number,
  options: { bundle?: number; description?: string; seed?: number; failOnBadUnits?: boolean; mode?: 'batch' | 'continuous' } = {},
) {
  const store = unique('grp');
  const definition = usageDefinition(store, { bundle: options.bundle ?? 50, mode: options.mode });
  if (options.failOnBadUnits) definition.nodes[1].config = { ...definition.nodes[1].config, onError: 'fail' } as any;
  const stream = await createStream(key, definition, options.description ?? '');
  const records = usageRecords(count, options.seed ?? 1);
  await appendNdjson(key, stream.id, records, 10);
  return { id: stream.id, store, records, definition };
}

async function createGroup(key: string, streams: string[], extra: Record<string, unknown> = {}) {
  const res = await api('POST', '/v1/stream-groups', { key, body: { name: unique('group'), streams, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; name: string };
}

async function startGroup(key: string, groupId: string) {
  const res = await api('POST', `/v1/stream-groups/${groupId}/start`, { key });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

describe.concurrent('group runs', () => {
  it('runs three batch streams strictly one after another and finishes with a checkpoint past the last', async () => {
    const { key } = await newTenant();
    const streams = [await usageStream(key, 40, { seed: 1 }), await usageStream(key, 40, { seed: 2 }), await usageStream(key, 40, { seed: 3 })];
    const group = await createGroup(key, streams.map((s) => s.id));

    const started = await startGroup(key, group.id);
    expect(started.id).toMatch(/^grun_/);
    expect(started).toMatchObject({ groupId: group.id, trigger: 'api', attempt: 1, streams: streams.map((s) => s.id), error: null });
    expect(['preparing', 'running']).toContain(started.status);
    expect((await api('GET', `/v1/stream-groups/${group.id}`, { key })).body.activeGroupRun).toMatchObject({ id: started.id });

    const run = await waitForGroupRun(key, started.id, groupEnded);
    expect(run).toMatchObject({
      status: 'finished',
      position: 3,
      completedStreams: streams.map((s) => s.id),
      currentRunId: null,
      versions: { 0: 'autosave', 1: 'autosave', 2: 'autosave' },
      checkpoint: { position: 3, completedStreams: streams.map((s) => s.id) },
    });
    expect(run.endedAt).toBeTruthy();

    // One run per stream, trigger group, each started after the previous one ended.
    const runs = [];
    for (const stream of streams) {
      const items = await runsOf(key, stream.id);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ trigger: 'group', groupRunId: started.id, status: 'finished', version: 'autosave' });
      runs.push(items[0]);
      expect(await storeTotals(key, stream.store)).toEqual(expectedTotals(stream.records));
    }
    expect(Object.values(run.streamRuns)).toEqual(runs.map((r) => r.id));
    for (let i = 1; i < runs.length; i++) expect(Date.parse(runs[i].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1].endedAt));

    expect((await api('GET', `/v1/stream-groups/${group.id}`, { key })).body.activeGroupRun).toBeNull();
    const listed = await api('GET', `/v1/stream-groups/${group.id}/runs`, { key });
    expect(listed.body.items.map((r: any) => r.id)).toEqual([started.id]);
    // A finished group run has nothing to resume.
    const resume = await api('POST', `/v1/stream-groups/${group.id}/resume`, { key });
    expect(resume.status).toBe(409);
    expect(resume.body.error.message).toContain('finished');
  });

  it('fails the group run when stream 2 fails (stream 3 never starts); after a fix, resume runs only streams 2 and 3', async () => {
    const { key } = await newTenant();
    const first = await usageStream(key, 30, { seed: 4 });
    const second = await usageStream(key, 30, { seed: 5, failOnBadUnits: true });
    await appendNdjson(key, second.id, [{ account: 'acct-bad', units: 'lots', region: 'eu' }]);
    const third = await usageStream(key, 30, { seed: 6 });
    const group = await createGroup(key, [first.id, second.id, third.id]);

    const started = await startGroup(key, group.id);
    const failed = await waitForGroupRun(key, started.id, groupEnded);
    expect(failed).toMatchObject({ status: 'failed', position: 1, completedStreams: [first.id] });
    expect(failed.error).toMatchObject({ code: 'stream_failed', streamId: second.id, position: 1 });
    expect(failed.error.message).toContain('Sluice.RecordFailed');
    const secondRuns = await runsOf(key, second.id);
    expect(secondRuns.map((r) => r.status)).toEqual(['failed']);
    expect(failed.error.runId).toBe(secondRuns[0].id);
    expect(await runsOf(key, third.id)).toEqual([]);
    expect((await api('GET', `/v1/stream-groups/${group.id}`, { key })).body.activeGroupRun).toBeNull();

    // Fix stream 2 (skip bad records instead of failing) and resume.
    const fixed = { ...second.definition, nodes: second.definition.nodes.map((n, i) => (i === 1 ? { ...n, config: { expression: 'units > 0' } } : n)) };
    const put = await api('PUT', `/v1/streams/${second.id}`, { key, body: { name: (await api('GET', `/v1/streams/${second.id}`, { key })).body.name, definition: fixed } });
    expect(put.status, put.text).toBe(200);
    const resumed = await api('POST', `/v1/stream-groups/${group.id}/resume`, { key });
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.body).toMatchObject({ id: started.id, attempt: 2, error: null, position: 1 });
    const done = await waitForGroupRun(key, started.id, groupEnded);
    expect(done).toMatchObject({ status: 'finished', position: 3, completedStreams: [first.id, second.id, third.id], error: null });

    expect(await runsOf(key, first.id)).toHaveLength(1);
    expect((await runsOf(key, second.id)).map((r) => r.status)).toEqual(['finished', 'failed']);
    expect((await runsOf(key, third.id)).map((r) => r.status)).toEqual(['finished']);
    expect(await storeTotals(key, second.store)).toEqual(expectedTotals(second.records));
    expect(await storeTotals(key, third.store)).toEqual(expectedTotals(third.records));
    // Still one group run: resume continued it.
    expect((await api('GET', `/v1/stream-groups/${group.id}/runs`, { key })).body.items).toHaveLength(1);
  });

  it('stops during stream 2 (stream and group stopped); resume continues stream 2 from its own checkpoint, then stream 3', async () => {
    const { key } = await newTenant();
    const first = await usageStream(key, 20, { seed: 7 });
    const second = await usageStream(key, 400, { seed: 8, bundle: 10, description: 'slow [test:bundle-delay-ms=40]' });
    const third = await usageStream(key, 20, { seed: 9 });
    const group = await createGroup(key, [first.id, second.id, third.id]);

    const started = await startGroup(key, group.id);
    const onSecond = await waitForGroupRun(key, started.id, (r) => r.position === 1 && r.currentRunId !== null);
    const secondRunId = onSecond.currentRunId;
    const until = Date.now() + 30_000;
    while ((await api('GET', `/v1/runs/${secondRunId}`, { key })).body.checkpoint.bundle < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));

    const stopped = await api('POST', `/v1/stream-groups/${group.id}/stop`, { key });
    expect(stopped.status, stopped.text).toBe(200);
    expect(stopped.body).toMatchObject({ id: started.id, status: 'stopped', position: 1, completedStreams: [first.id], currentRunId: secondRunId });
    const secondRun = await (async () => {
      for (let i = 0; ; i++) {
        const r = (await api('GET', `/v1/runs/${secondRunId}`, { key })).body;
        if (r.status !== 'running' || i > 200) return r;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    expect(secondRun.status).toBe('stopped');
    expect(secondRun.stats.totals.in).toBeGreaterThan(0);
    expect(secondRun.stats.totals.in).toBeLessThan(400);
    expect((await api('GET', `/v1/group-runs/${started.id}`, { key })).body.status).toBe('stopped');
    expect(await runsOf(key, third.id)).toEqual([]);
    expect((await api('POST', `/v1/stream-groups/${group.id}/stop`, { key })).status).toBe(409);

    const resumed = await api('POST', `/v1/stream-groups/${group.id}/resume`, { key });
    expect(resumed.status, resumed.text).toBe(200);
    const done = await waitForGroupRun(key, started.id, groupEnded);
    expect(done).toMatchObject({ status: 'finished', completedStreams: [first.id, second.id, third.id] });

    const secondRuns = await runsOf(key, second.id);
    expect(secondRuns.map((r) => r.status)).toEqual(['finished', 'stopped']);
    // The second run read only what the first had not committed: nothing twice, nothing missed.
    expect(secondRuns[0].stats.totals.in + secondRuns[1].stats.totals.in).toBe(400);
    expect(await storeTotals(key, second.store)).toEqual(expectedTotals(second.records));
    expect(await runsOf(key, first.id)).toHaveLength(1);
    expect((await runsOf(key, third.id)).map((r) => r.status)).toEqual(['finished']);
  });

  it('fails at Prepare when a stream was deleted or has nothing to run: no stream of the group runs', async () => {
    const { key } = await newTenant();
    const first = await usageStream(key, 10);
    const doomed = await usageStream(key, 10);
    const sourceless = await createStream(key, { nodes: [] });
    const group = await createGroup(key, [first.id, doomed.id, sourceless.id]);

    const started = await startGroup(key, group.id);
    const failed = await waitForGroupRun(key, started.id, groupEnded);
    expect(failed).toMatchObject({ status: 'failed', position: 0, completedStreams: [], currentRunId: null });
    expect(failed.error.code).toBe('prepare_failed');
    expect(failed.error.details).toEqual([{ path: 'streams[2]', message: expect.stringContaining('has no source node') }]);

    // The delete takes the stream out of the group, not out of the failed run: resuming it prepares it again and finds it gone.
    expect((await api('DELETE', `/v1/streams/${doomed.id}`, { key })).status).toBe(204);
    expect((await api('GET', `/v1/stream-groups/${group.id}`, { key })).body.streams).toEqual([first.id, sourceless.id]);
    const resumed = await api('POST', `/v1/stream-groups/${group.id}/resume`, { key });
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.body).toMatchObject({ id: started.id, attempt: 2, streams: [first.id, doomed.id, sourceless.id] });
    const again = await waitForGroupRun(key, started.id, (r) => r.attempt === 2 && groupEnded(r));
    expect(again).toMatchObject({ status: 'failed', position: 0, completedStreams: [] });
    expect(again.error.code).toBe('prepare_failed');
    expect(again.error.details).toEqual([
      { path: 'streams[1]', message: `stream ${doomed.id} does not exist` },
      { path: 'streams[2]', message: expect.stringContaining('has no source node') },
    ]);
    expect(await runsOf(key, first.id)).toEqual([]);
    expect(await runsOf(key, sourceless.id)).toEqual([]);
  });

  it('deleting a stream takes it out of every idle group that lists it (new revision and ETag); the next run runs the rest', async () => {
    const { key } = await newTenant();
    const [a, b, c] = [await usageStream(key, 20, { seed: 21 }), await usageStream(key, 20, { seed: 22 }), await usageStream(key, 20, { seed: 23 })];
    const one = await createGroup(key, [a.id, b.id, c.id]);
    const two = await createGroup(key, [b.id, a.id]);
    const read = () => Promise.all([one, two].map((g) => api('GET', `/v1/stream-groups/${g.id}`, { key })));
    const before = await read();
    expect(before.map((r) => r.headers.get('etag'))).toEqual(['"1"', '"1"']);

    const deleted = await api('DELETE', `/v1/streams/${b.id}`, { key });
    expect(deleted.status, deleted.text).toBe(204);
    expect((await api('GET', `/v1/streams/${b.id}`, { key })).status).toBe(404);
    const after = await read();
    expect(after[0].body).toMatchObject({ streams: [a.id, c.id], revision: 2, activeGroupRun: null });
    expect(after[1].body).toMatchObject({ streams: [a.id], revision: 2, activeGroupRun: null });
    for (const [i, res] of after.entries()) {
      expect(res.headers.get('etag')).toBe('"2"');
      expect(Date.parse(res.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(before[i].body.updatedAt));
    }
    // A client still holding the old ETag cannot write over the change it did not see.
    const stale = await api('PUT', `/v1/stream-groups/${one.id}`, { key, body: { name: one.name, streams: [a.id, b.id] }, headers: { 'if-match': before[0].headers.get('etag')! } });
    expect(stale.status, stale.text).toBe(412);
    expect((await api('GET', `/v1/stream-groups/${one.id}`, { key })).body).toMatchObject({ streams: [a.id, c.id], revision: 2 });
    // The stats see the memberships that are left.
    const stats = await api('GET', `/v1/stats?groupId=${two.id}`, { key });
    expect(stats.body.items.map((item: any) => item.streamId)).toEqual([a.id]);

    const started = await startGroup(key, one.id);
    expect(started.streams).toEqual([a.id, c.id]);
    const run = await waitForGroupRun(key, started.id, groupEnded);
    expect(run).toMatchObject({ status: 'finished', position: 2, completedStreams: [a.id, c.id], error: null });
    expect((await runsOf(key, a.id)).map((r) => r.status)).toEqual(['finished']);
    expect((await runsOf(key, c.id)).map((r) => r.status)).toEqual(['finished']);
    expect(await storeTotals(key, c.store)).toEqual(expectedTotals(c.records));
  });

  it('two concurrent starts: one 201, one 409; while running, deleting a member stream or the group is 409', async () => {
    const { key } = await newTenant();
    // 30 bundles of 100 ms: the group run is still on its first stream through every refusal below.
    const slow = await usageStream(key, 300, { bundle: 10, description: '[test:bundle-delay-ms=100]' });
    const other = await usageStream(key, 10);
    const group = await createGroup(key, [slow.id, other.id]);

    const starts = await Promise.all([1, 2].map(() => api('POST', `/v1/stream-groups/${group.id}/start`, { key })));
    expect(starts.map((r) => r.status).sort()).toEqual([201, 409]);
    const winner = starts.find((r) => r.status === 201)!.body;
    expect(starts.find((r) => r.status === 409)!.body.error.message).toContain('running');

    const before = await api('GET', `/v1/stream-groups/${group.id}`, { key });
    const refused = await api('DELETE', `/v1/streams/${other.id}`, { key });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(`stream group ${group.id}, which is running`);
    // The refused delete changed nothing: the stream is there and the group still lists it at the same revision.
    expect((await api('GET', `/v1/streams/${other.id}`, { key })).status).toBe(200);
    const after = await api('GET', `/v1/stream-groups/${group.id}`, { key });
    expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
    expect(after.body).toMatchObject({ streams: [slow.id, other.id], revision: 1, updatedAt: before.body.updatedAt });
    expect((await api('DELETE', `/v1/stream-groups/${group.id}`, { key })).status).toBe(409);
    expect((await api('POST', `/v1/stream-groups/${group.id}/resume`, { key })).status).toBe(409);
    const moved = await api('PUT', `/v1/stream-groups/${group.id}`, { key, body: { name: group.name, streams: [other.id] } });
    expect(moved.status).toBe(409);

    const stopped = await api('POST', `/v1/stream-groups/${group.id}/stop`, { key });
    expect(stopped.status, stopped.text).toBe(200);
    expect(stopped.body.id).toBe(winner.id);
    expect((await api('GET', `/v1/stream-groups/${group.id}/runs`, { key })).body.items.map((r: any) => r.id)).toEqual([winner.id]);
    // Once stopped (and the stream run ended), the stream may go, and the group lets it.
    await waitForGroupRun(key, winner.id, (r) => r.status === 'stopped');
    expect((await api('DELETE', `/v1/streams/${other.id}`, { key })).status).toBe(204);
    expect((await api('GET', `/v1/stream-groups/${group.id}`, { key })).body).toMatchObject({ streams: [slow.id], revision: 2 });
  });

  it('stops the group run when its stream run is stopped directly, keeping the checkpoint before that stream', async () => {
    const { key } = await newTenant();
    const slow = await usageStream(key, 200, { bundle: 10, description: '[test:bundle-delay-ms=30]' });
    const next = await usageStream(key, 10);
    const group = await createGroup(key, [slow.id, next.id]);
    const started = await startGroup(key, group.id);
    const running = await waitForGroupRun(key, started.id, (r) => r.currentRunId !== null);
    expect((await api('POST', `/v1/runs/${running.currentRunId}/stop`, { key })).status).toBe(200);
    const stopped = await waitForGroupRun(key, started.id, groupEnded);
    expect(stopped).toMatchObject({ status: 'stopped', position: 0, completedStreams: [], error: null });
    expect(await runsOf(key, next.id)).toEqual([]);
    expect((await api('GET', `/v1/stream-groups/${group.id}`, { key })).body.activeGroupRun).toBeNull();
  });

  it('answers 409 to stop and resume of a group that never ran, and 404 for another solution', async () => {
    const { key } = await newTenant();
    const other = await newTenant();
    const stream = await usageStream(key, 5);
    const group = await createGroup(key, [stream.id]);
    expect((await api('POST', `/v1/stream-groups/${group.id}/stop`, { key })).status).toBe(409);
    const resume = await api('POST', `/v1/stream-groups/${group.id}/resume`, { key });
    expect(resume.status).toBe(409);
    expect(resume.body.error.message).toContain('never run');
    expect((await api('POST', `/v1/stream-groups/${group.id}/start`, { key: other.key })).status).toBe(404);
    expect((await api('GET', `/v1/stream-groups/${group.id}/runs`, { key: other.key })).status).toBe(404);
    const started = await startGroup(key, group.id);
    expect((await api('GET', `/v1/group-runs/${started.id}`, { key: other.key })).status).toBe(404);
    expect((await api('GET', '/v1/group-runs/grun_01ARZ3NDEKTSV4RRFFQ69G5FAV', { key })).status).toBe(404);
    await waitForGroupRun(key, started.id, groupEnded);
  });

  it('lists a group’s streams in /v1/stats?groupId= with their group memberships, renamed groups included', async () => {
    const { key } = await newTenant();
    const a = await usageStream(key, 5);
    const b = await usageStream(key, 5);
    const outsider = await usageStream(key, 5);
    const one = await createGroup(key, [a.id, b.id]);
    const two = await createGroup(key, [a.id]);
    const renamed = await api('PUT', `/v1/stream-groups/${two.id}`, { key, body: { name: 'renamed', streams: [a.id] } });
    expect(renamed.status, renamed.text).toBe(200);

    const stats = await api('GET', `/v1/stats?groupId=${one.id}`, { key });
    expect(stats.status, stats.text).toBe(200);
    expect(stats.body.items.map((i: any) => i.streamId).sort()).toEqual([a.id, b.id].sort());
    const itemA = stats.body.items.find((i: any) => i.streamId === a.id);
    expect(itemA.groups.sort((x: any, y: any) => x.id.localeCompare(y.id))).toEqual(
      [{ id: one.id, name: one.name }, { id: two.id, name: 'renamed' }].sort((x, y) => x.id.localeCompare(y.id)),
    );
    expect(stats.body.items.find((i: any) => i.streamId === b.id).groups).toEqual([{ id: one.id, name: one.name }]);
    expect((await api('GET', `/v1/stats?groupId=${two.id}`, { key })).body.items.map((i: any) => i.streamId)).toEqual([a.id]);
    expect((await api('GET', `/v1/stats?streamId=${outsider.id}`, { key })).body.items[0].groups).toEqual([]);
  });
});

describe.concurrent('group runs that fail', () => {
  it('answers 503 when the group execution cannot start: the run fails with start_failed and the group is free to start again', async () => {
    const { key } = await newTenant();
    const stream = await usageStream(key, 10, { seed: 11 });
    // The local Step Functions endpoint refuses StartExecution of attempt 1 of this group's runs (shared/engine/test-hooks.ts).
    const group = await createGroup(key, [stream.id], { description: 'refused [test:refuse-start-execution=1]' });
    const idempotencyKey = unique('start');
    const start = () => api('POST', `/v1/stream-groups/${group.id}/start`, { key, headers: { 'idempotency-key': idempotencyKey } });

    const refused = await start();
    expect(refused.status, refused.text).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'unavailable', message: 'the group run could not be started; try again' });

    const listed = await api('GET', `/v1/stream-groups/${group.id}/runs`, { key });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.items).toHaveLength(1);
    const failed = listed.body.items[0];
    expect(failed).toMatchObject({
      groupId: group.id,
      status: 'failed',
      trigger: 'api',
      attempt: 1,
      streams: [stream.id],
      position: 0,
      completedStreams: [],
      currentRunId: null,
      streamRuns: {},
      versions: {},
      checkpoint: null,
    });
    expect(failed.endedAt).toBeTruthy();
    expect(failed.error.code).toBe('start_failed');
    expect(failed.error.message).toMatch(/^the group run could not start: .*refused by the test hook refuse-start-execution/);
    expect((await api('GET', `/v1/group-runs/${failed.id}`, { key })).body).toEqual(failed);
    // Nothing ran, and the group's slot was released with the failure.
    expect(await runsOf(key, stream.id)).toEqual([]);
    expect((await api('GET', `/v1/stream-groups/${group.id}`, { key })).body.activeGroupRun).toBeNull();

    // Starting again (same Idempotency-Key: a failed request releases it) gets as far as StartExecution again: not a 409.
    const again = await start();
    expect(again.status, again.text).toBe(503);
    const twice = (await api('GET', `/v1/stream-groups/${group.id}/runs`, { key })).body.items;
    expect(twice.map((r: any) => [r.status, r.error?.code])).toEqual([['failed', 'start_failed'], ['failed', 'start_failed']]);
    expect(twice[1].id).toBe(failed.id);

    // Without the hook the next start runs.
    const put = await api('PUT', `/v1/stream-groups/${group.id}`, { key, body: { name: group.name, streams: [stream.id] } });
    expect(put.status, put.text).toBe(200);
    const ok = await start();
    expect(ok.status, ok.text).toBe(201);
    expect(ok.headers.get('idempotent-replayed')).toBeNull();
    const done = await waitForGroupRun(key, ok.body.id, groupEnded);
    expect(done).toMatchObject({ status: 'finished', position: 1, completedStreams: [stream.id], error: null });
    expect((await runsOf(key, stream.id)).map((r) => [r.status, r.groupRunId])).toEqual([['finished', ok.body.id]]);
    const all = (await api('GET', `/v1/stream-groups/${group.id}/runs`, { key })).body.items;
    expect(all.map((r: any) => r.status)).toEqual(['finished', 'failed', 'failed']);
  });

  it('fails with stream_busy when a stream already has a run it did not start, and leaves that run alone', async () => {
    const { key } = await newTenant();
    const first = await usageStream(key, 10, { seed: 12 });
    const busy = await usageStream(key, 20, { seed: 13, mode: 'continuous' });
    const native = await startRun(key, busy.id);
    const group = await createGroup(key, [first.id, busy.id]);

    const started = await startGroup(key, group.id);
    // StartStream retries Sluice.StreamBusy 4 times (about 16 s) before the failure is recorded.
    const failed = await waitForGroupRun(key, started.id, groupEnded, 60_000);
    const firstRuns = await runsOf(key, first.id);
    expect(firstRuns.map((r) => r.status)).toEqual(['finished']);
    expect(failed).toMatchObject({
      status: 'failed',
      attempt: 1,
      position: 1,
      completedStreams: [first.id],
      currentRunId: null,
      streamRuns: { 0: firstRuns[0].id },
      versions: { 0: 'autosave', 1: 'autosave' },
      checkpoint: { position: 1, completedStreams: [first.id] },
    });
    expect(failed.error).toMatchObject({ code: 'stream_busy', streamId: busy.id, position: 1 });
    expect(failed.error.runId).toBeUndefined();
    expect(failed.error.message).toContain('Sluice.StreamBusy');
    expect(failed.error.message).toContain(`stream ${busy.id} already has an active run ${native.id}`);
    const listed = (await api('GET', `/v1/stream-groups/${group.id}/runs`, { key })).body.items;
    expect(listed).toEqual([failed]);
    expect((await api('GET', `/v1/stream-groups/${group.id}`, { key })).body.activeGroupRun).toBeNull();

    // The stream's own run is untouched: still running, not the group's, and it read everything; the group started no run there.
    const own = await waitForRun(key, native.id, (r) => ended(r) || r.stats.totals.in === busy.records.length);
    expect(own).toMatchObject({ id: native.id, status: 'running', desiredStatus: 'running', trigger: 'api', error: null });
    expect(own.groupRunId).toBeUndefined();
    expect((await runsOf(key, busy.id)).map((r) => r.id)).toEqual([native.id]);
    expect(await storeTotals(key, busy.store)).toEqual(expectedTotals(busy.records));
    expect((await api('POST', `/v1/runs/${native.id}/stop`, { key })).status).toBe(200);
    expect((await waitForRun(key, native.id, ended)).status).toBe('stopped');
  });

  it('fails with stream_missing when a stream of a resumed run is deleted after Prepare (the group no longer listed it)', async () => {
    const { key } = await newTenant();
    const slow = await usageStream(key, 400, { seed: 14, bundle: 10, description: 'slow [test:bundle-delay-ms=100]' });
    const doomed = await usageStream(key, 10, { seed: 15 });
    const group = await createGroup(key, [slow.id, doomed.id]);

    const started = await startGroup(key, group.id);
    const firstRunId = (await waitForGroupRun(key, started.id, (r) => r.currentRunId !== null)).currentRunId;
    expect((await api('POST', `/v1/stream-groups/${group.id}/stop`, { key })).status).toBe(200);
    // While the group run is stopped the group may drop a stream; the run keeps its own list, so a resume still runs it.
    const put = await api('PUT', `/v1/stream-groups/${group.id}`, { key, body: { name: group.name, streams: [slow.id] } });
    expect(put.status, put.text).toBe(200);
    const resumed = await api('POST', `/v1/stream-groups/${group.id}/resume`, { key });
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.body).toMatchObject({ id: started.id, attempt: 2, streams: [slow.id, doomed.id] });

    // Prepared (both pinned) and running the slow stream again: the doomed stream is in no running group any more, so it can go.
    const running = await waitForGroupRun(key, started.id, (r) => r.status === 'running' && r.currentRunId !== null && r.currentRunId !== firstRunId);
    expect(running).toMatchObject({ attempt: 2, position: 0, versions: { 0: 'autosave', 1: 'autosave' } });
    const deleted = await api('DELETE', `/v1/streams/${doomed.id}`, { key });
    expect(deleted.status, deleted.text).toBe(204);
    expect((await api('GET', `/v1/runs/${running.currentRunId}`, { key })).body.status).toBe('running');

    const failed = await waitForGroupRun(key, started.id, groupEnded);
    expect(failed).toMatchObject({
      status: 'failed',
      attempt: 2,
      position: 1,
      completedStreams: [slow.id],
      currentRunId: null,
      streamRuns: { 0: running.currentRunId },
      checkpoint: { position: 1, completedStreams: [slow.id] },
    });
    expect(failed.error).toMatchObject({ code: 'stream_missing', streamId: doomed.id, position: 1 });
    expect(failed.error.runId).toBeUndefined();
    expect(failed.error.message).toContain(`stream ${doomed.id} was deleted after the group run was prepared`);
    expect((await api('GET', `/v1/stream-groups/${group.id}/runs`, { key })).body.items).toEqual([failed]);
    expect((await runsOf(key, slow.id)).map((r) => r.status)).toEqual(['finished', 'stopped']);
    expect(await storeTotals(key, slow.store)).toEqual(expectedTotals(slow.records));
    expect((await api('GET', `/v1/stream-groups/${group.id}`, { key })).body.activeGroupRun).toBeNull();
  });
});
