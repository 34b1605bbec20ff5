import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, inject, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';
import {
  appendNdjson,
  createStream,
  ended,
  expectedTotals,
  startRun,
  storeTotals,
  usageDefinition,
  usageRecords,
  waitForRun,
} from '../support/runs.ts';

const BROKEN = ['{"account": "acct-x", "units": ', 'not json at all', '{"unterminated": "'];

describe('batch runs', () => {
  it('runs 20,000 NDJSON usage records through filter and meter into an aggregation store with exact totals and stats', async () => {
    const { key } = await newTenant();
    const store = unique('usage');
    const records = usageRecords(20_000);
    const stream = await createStream(key, usageDefinition(store, { bundle: 1000 }));
    await appendNdjson(key, stream.id, records, 100, BROKEN);

    const started = await startRun(key, stream.id);
    expect(started).toMatchObject({ streamId: stream.id, version: 'autosave', trigger: 'api', status: 'running', desiredStatus: 'running' });
    expect(started.id).toMatch(/^run_/);
    expect(started.executionId).toBeTruthy();
    const run = await waitForRun(key, started.id, ended, 100_000);
    expect(run.status).toBe('finished');
    expect(run.endedAt).toBeTruthy();

    expect(await storeTotals(key, store)).toEqual(expectedTotals(records));

    const billable = records.filter((r) => r.units > 0).length;
    const stats = await api('GET', `/v1/runs/${run.id}/stats`, { key });
    expect(stats.status).toBe(200);
    const node = (id: string) => stats.body.nodes.find((n: any) => n.nodeId === id);
    expect(node('in')).toMatchObject({ type: 'http-collector', in: 20_003, out: 20_000, failed: 3 });
    expect(node('billable')).toMatchObject({ in: 20_000, out: billable, failed: 0 });
    expect(node('meter')).toMatchObject({ in: billable, failed: 0 });
    expect(node('store').in).toBe(node('meter').out);
    expect(stats.body.totals).toMatchObject({ in: 20_003, failed: 3, out: node('store').out });
    expect(stats.body.totals.bytesIn).toBeGreaterThan(0);
    expect(stats.body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(stats.body.avgRate).toBeGreaterThan(0);
    // The records that failed are kept as a sample on the run, with the reason.
    expect(run.recentErrors).toHaveLength(3);
    expect(run.recentErrors[0]).toMatchObject({ nodeId: 'in', message: expect.stringContaining('not JSON') });

    // The stream is free again, and its runs list shows the run.
    const streamNow = await api('GET', `/v1/streams/${stream.id}`, { key });
    expect(streamNow.body.activeRun).toBeNull();
    const runs = await api('GET', `/v1/streams/${stream.id}/runs`, { key });
    expect(runs.body.items.map((r: any) => r.id)).toEqual([run.id]);
    const offsets = await api('GET', `/v1/streams/${stream.id}/offsets`, { key });
    expect(offsets.body.offsets.in).toEqual({ packet: 201, entry: 0 });
  }, 180_000);

  it('pauses in the middle and resumes to the same totals, nothing counted twice or missed', async () => {
    const { key } = await newTenant();
    const store = unique('usage');
    const records = usageRecords(20_000, 5);
    const stream = await createStream(key, usageDefinition(store, { bundle: 400 }), 'slow bundles [test:bundle-delay-ms=20]');
    await appendNdjson(key, stream.id, records, 100);

    const started = await startRun(key, stream.id);
    const paused = await api('POST', `/v1/runs/${started.id}/pause`, { key });
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body.desiredStatus).toBe('paused');
    const parked = await waitForRun(key, started.id, (r) => r.status === 'paused');
    expect(parked.checkpoint.bundle).toBeGreaterThan(0);
    expect(parked.checkpoint.bundle).toBeLessThan(50);
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).body.activeRun).toEqual({ id: started.id, status: 'paused' });

    // While paused nothing moves, and uptime does not count.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const still = await api('GET', `/v1/runs/${started.id}`, { key });
    expect(still.body.checkpoint.bundle).toBe(parked.checkpoint.bundle);
    expect(still.body.status).toBe('paused');

    // Pausing a paused run is an impossible transition.
    const again = await api('POST', `/v1/runs/${started.id}/pause`, { key });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('paused');

    const resumed = await api('POST', `/v1/runs/${started.id}/resume`, { key });
    // Taken after the answer: the run has been running since a moment before.
    const resumedAt = Date.now();
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.body).toMatchObject({ status: 'running', desiredStatus: 'running' });
    const run = await waitForRun(key, started.id, ended, 100_000);
    expect(run.status).toBe('finished');
    expect(await storeTotals(key, store)).toEqual(expectedTotals(records));
    const stats = await api('GET', `/v1/runs/${run.id}/stats`, { key });
    expect(stats.body.totals).toMatchObject({ in: 20_000, failed: 0 });
    const elapsedSeconds = (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000;
    // Uptime counts the running time only: at least the time since the resume, not the 2.5 s paused.
    expect(stats.body.uptimeSeconds).toBeLessThanOrEqual(Math.round(elapsedSeconds - 2.5));
    expect(stats.body.uptimeSeconds).toBeGreaterThanOrEqual(Math.floor((Date.parse(run.endedAt) - resumedAt) / 1000));
    expect(stats.body.avgRate).toBe(stats.body.uptimeSeconds > 0 ? Math.round((20_000 / stats.body.uptimeSeconds) * 100) / 100 : 20_000);
  }, 180_000);

  it('stops a run and a new start continues from the committed offsets to the same totals', async () => {
    const { key } = await newTenant();
    const store = unique('usage');
    const records = usageRecords(20_000, 9);
    const stream = await createStream(key, usageDefinition(store, { bundle: 400 }), '[test:bundle-delay-ms=20]');
    await appendNdjson(key, stream.id, records, 100);

    const first = await startRun(key, stream.id);
    await waitForRun(key, first.id, (r) => r.checkpoint.bundle >= 3);
    const stopping = await api('POST', `/v1/streams/${stream.id}/stop`, { key });
    expect(stopping.status, stopping.text).toBe(200);
    expect(stopping.body.desiredStatus).toBe('stopped');
    const stopped = await waitForRun(key, first.id, ended);
    expect(stopped.status).toBe('stopped');
    const firstIn = (await api('GET', `/v1/runs/${first.id}/stats`, { key })).body.totals.in;
    expect(firstIn).toBeGreaterThan(0);
    expect(firstIn).toBeLessThan(20_000);
    expect((await api('POST', `/v1/streams/${stream.id}/stop`, { key })).status).toBe(409);
    expect((await api('POST', `/v1/runs/${first.id}/resume`, { key })).status).toBe(409);

    const offsets = await api('GET', `/v1/streams/${stream.id}/offsets`, { key });
    expect(offsets.body.offsets.in).toEqual(stopped.checkpoint.offsets.in);

    const second = await startRun(key, stream.id);
    const run = await waitForRun(key, second.id, ended, 100_000);
    expect(run.status).toBe('finished');
    const secondIn = (await api('GET', `/v1/runs/${second.id}/stats`, { key })).body.totals.in;
    expect(firstIn + secondIn).toBe(20_000);
    expect(await storeTotals(key, store)).toEqual(expectedTotals(records));

    const runs = await api('GET', `/v1/streams/${stream.id}/runs`, { key });
    expect(runs.body.items.map((r: any) => r.id)).toEqual([second.id, first.id]);
    expect(new Set([first.executionId, second.executionId]).size).toBe(2);
  }, 180_000);

  it('continues from explicitly set offsets, mid-packet too, and refuses an offset its source would not commit', async () => {
    const { key } = await newTenant();
    const store = unique('usage');
    const stream = await createStream(key, usageDefinition(store, { bundle: 100 }));
    const [old, fresh] = [usageRecords(300, 1), usageRecords(200, 2)];
    await appendNdjson(key, stream.id, old, 100);
    expect((await waitForRun(key, (await startRun(key, stream.id)).id, ended)).status).toBe('finished');
    const offsetsUrl = `/v1/streams/${stream.id}/offsets`;
    const afterOld = (await api('GET', offsetsUrl, { key })).body.offsets.in;
    expect(afterOld).toEqual({ packet: 3, entry: 0 });
    await appendNdjson(key, stream.id, fresh, 100);

    // Back to the beginning, then to the 51st record of the first new packet: the old records and 50 new ones are skipped.
    expect((await api('POST', `${offsetsUrl}/reset`, { key, body: {} })).body.offsets).toEqual({});
    const set = await api('POST', `${offsetsUrl}/reset`, { key, body: { offsets: { in: { packet: 3, entry: 50 } } } });
    expect(set.status, set.text).toBe(200);
    expect(set.body.offsets).toEqual({ in: { packet: 3, entry: 50 } });
    expect((await api('GET', offsetsUrl, { key })).body.offsets).toEqual({ in: { packet: 3, entry: 50 } });

    for (const [offsets, path] of [
      [{ billable: { packet: 1 } }, 'offsets.billable'],
      [{ in: 5 }, 'offsets.in'],
      [{ in: { packet: -1 } }, 'offsets.in.packet'],
      [{ in: { packet: 1.5, entry: 0 } }, 'offsets.in.packet'],
      [{ in: { lsn: '0/16B3748' } }, 'offsets.in'],
      // The stream has 5 packets: an offset past them would skip the next ones appended.
      [{ in: { packet: 6, entry: 0 } }, 'offsets.in.packet'],
      [{ in: { packet: 5, entry: 3 } }, 'offsets.in.entry'],
    ] as const) {
      const refused = await api('POST', `${offsetsUrl}/reset`, { key, body: { offsets } });
      expect(refused.status, JSON.stringify(offsets)).toBe(400);
      expect(refused.body.error.details.map((d: { path: string }) => d.path), JSON.stringify(offsets)).toContain(path);
    }
    // Nothing refused was written.
    expect((await api('GET', offsetsUrl, { key })).body.offsets).toEqual({ in: { packet: 3, entry: 50 } });

    const second = await waitForRun(key, (await startRun(key, stream.id)).id, ended);
    expect(second.status).toBe('finished');
    expect((await api('GET', `/v1/runs/${second.id}/stats`, { key })).body.totals.in).toBe(150);
    expect(await storeTotals(key, store)).toEqual(expectedTotals([...old, ...fresh.slice(50)]));
    expect((await api('GET', offsetsUrl, { key })).body.offsets.in).toEqual({ packet: 5, entry: 0 });
    // `{}`, as a source that has read nothing commits it, is the beginning.
    expect((await api('POST', `${offsetsUrl}/reset`, { key, body: { offsets: { in: {} } } })).body.offsets).toEqual({ in: {} });

    // Deployed, offsets are checked against the tag's definition (what the next run runs), not the autosave.
    expect((await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'v1' } })).status).toBe(201);
    expect((await api('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'v1' } })).status).toBe(200);
    const renamed = usageDefinition(store, { bundle: 100 });
    renamed.nodes[0].id = 'in2';
    renamed.edges[0].from = 'in2';
    expect((await api('PATCH', `/v1/streams/${stream.id}`, { key, body: { definition: renamed } })).status).toBe(200);
    expect((await api('POST', `${offsetsUrl}/reset`, { key, body: { offsets: { in: { packet: 1 } } } })).status).toBe(200);
    const autosaveOnly = await api('POST', `${offsetsUrl}/reset`, { key, body: { offsets: { in2: { packet: 1 } } } });
    expect(autosaveOnly.status).toBe(400);
    expect(autosaveOnly.body.error.details).toEqual([{ path: 'offsets.in2', message: 'not a source node of this stream' }]);
  }, 120_000);

  it('applies every bundle once when ProcessBundle fails after its writes and Step Functions retries it', async () => {
    const { key } = await newTenant();
    const store = unique('usage');
    const records = usageRecords(5_000, 3);
    // Two sinks: the aggregation store (in the commit transaction) and a dataset written before the commit.
    const definition = usageDefinition(store, { bundle: 500 });
    definition.nodes.push({ id: 'raw', type: 'dataset', config: { updateMethod: 'APPEND' } } as any);
    definition.edges.push({ from: 'in', to: 'raw' });
    const stream = await createStream(key, definition, '[test:fault-after-commit=2] [test:fault-before-commit=4]');
    await appendNdjson(key, stream.id, records, 100);
    const started = await startRun(key, stream.id);
    const run = await waitForRun(key, started.id, ended);
    expect(run.status).toBe('finished');
    expect(run.checkpoint.bundle).toBe(10);
    expect(await storeTotals(key, store)).toEqual(expectedTotals(records));
    const dataset = await api('GET', `/v1/streams/${stream.id}/dataset`, { key });
    expect(dataset.body.rows).toBe(5_000);
    const stats = await api('GET', `/v1/runs/${run.id}/stats`, { key });
    expect(stats.body.totals).toMatchObject({ in: 5_000, failed: 0 });
  });

  it('ends at limits.numberOfEvents with exactly that many records read', async () => {
    const { key } = await newTenant();
    const store = unique('usage');
    const records = usageRecords(1_000);
    const stream = await createStream(key, usageDefinition(store, { bundle: 300, limits: { numberOfEvents: 700 } }));
    await appendNdjson(key, stream.id, records, 100);
    const run = await waitForRun(key, (await startRun(key, stream.id)).id, ended);
    expect(run.status).toBe('event_limit_reached');
    expect(run.stats.totals.in).toBe(700);
    expect(await storeTotals(key, store)).toEqual(expectedTotals(records.slice(0, 700)));
  });

  it('fails the run on the first record error of a node with onError fail', async () => {
    const { key } = await newTenant();
    const definition = usageDefinition(unique('usage'));
    definition.nodes[1].config = { ...definition.nodes[1].config, onError: 'fail' } as any;
    const stream = await createStream(key, definition);
    await appendNdjson(key, stream.id, [{ account: 'a', units: 3 }, { account: 'b', units: 'lots' }]);
    const run = await waitForRun(key, (await startRun(key, stream.id)).id, ended);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'Sluice.RecordFailed', message: expect.stringContaining('node billable: filter') });
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).body.activeRun).toBeNull();
  });
});

describe('continuous runs', () => {
  it('picks up new packets while running, stops as stopped, and a new start continues from the offset', async () => {
    const { key } = await newTenant();
    const store = unique('usage');
    const stream = await createStream(key, usageDefinition(store, { mode: 'continuous', bundle: 500 }));
    const batches = [usageRecords(600, 1), usageRecords(400, 2), usageRecords(300, 3)];
    await appendNdjson(key, stream.id, batches[0]);

    const first = await startRun(key, stream.id);
    await waitForRun(key, first.id, (r) => r.stats.totals.in === 600);
    await appendNdjson(key, stream.id, batches[1]);
    await waitForRun(key, first.id, (r) => r.stats.totals.in === 1000);
    expect(await storeTotals(key, store)).toEqual(expectedTotals([...batches[0], ...batches[1]]));

    // Impossible transitions while it runs.
    const resume = await api('POST', `/v1/runs/${first.id}/resume`, { key });
    expect(resume.status).toBe(409);
    expect(resume.body.error.message).toContain('is running');
    const startAgain = await api('POST', `/v1/streams/${stream.id}/start`, { key });
    expect(startAgain.status).toBe(409);
    expect(startAgain.body.error.message).toContain(first.id);
    const reset = await api('POST', `/v1/streams/${stream.id}/offsets/reset`, { key, body: {} });
    expect(reset.status).toBe(409);
    expect((await api('DELETE', `/v1/streams/${stream.id}`, { key })).status).toBe(409);

    const stop = await api('POST', `/v1/runs/${first.id}/stop`, { key });
    expect(stop.status).toBe(200);
    expect((await waitForRun(key, first.id, ended)).status).toBe('stopped');
    const pauseFinished = await api('POST', `/v1/runs/${first.id}/pause`, { key });
    expect(pauseFinished.status).toBe(409);
    expect(pauseFinished.body.error.message).toContain('stopped');

    await appendNdjson(key, stream.id, batches[2]);
    const second = await startRun(key, stream.id);
    await waitForRun(key, second.id, (r) => r.stats.totals.in === 300);
    expect(await storeTotals(key, store)).toEqual(expectedTotals(batches.flat()));
    expect((await api('POST', `/v1/runs/${second.id}/stop`, { key })).status).toBe(200);
    expect((await waitForRun(key, second.id, ended)).status).toBe('stopped');

    // With no run active, offsets reset back to the beginning.
    const back = await api('POST', `/v1/streams/${stream.id}/offsets/reset`, { key, body: {} });
    expect(back.status, back.text).toBe(200);
    expect(back.body.offsets).toEqual({});
  });

  it('continues as a new execution after the loop limit and keeps going', async () => {
    const { key } = await newTenant();
    const store = unique('usage');
    const stream = await createStream(key, usageDefinition(store, { mode: 'continuous', bundle: 100 }), '[test:continue-after=2]');
    const started = await startRun(key, stream.id);
    // Idle polls count as loops: after two, the execution hands over to `{executionId}-c1`, then `-c2`.
    const env = inject('runtimeEnv');
    const sfn = new SFNClient({ endpoint: env.AWS_ENDPOINT_URL_SFN, region: env.AWS_REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const arnOf = (generation: number) =>
      `${env.RUN_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${started.executionId}${generation ? `-c${generation}` : ''}`;
    await expect.poll(async () => (await sfn.send(new DescribeExecutionCommand({ executionArn: arnOf(2) })).catch(() => undefined))?.status, { timeout: 30_000, interval: 250 }).toBe('RUNNING');
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arnOf(0) }))).status).toBe('SUCCEEDED');
    const records = usageRecords(250);
    await appendNdjson(key, stream.id, records, 50);
    await waitForRun(key, started.id, (r) => r.stats.totals.in === 250, 30_000);
    expect(await storeTotals(key, store)).toEqual(expectedTotals(records));
    expect((await api('POST', `/v1/runs/${started.id}/stop`, { key })).status).toBe(200);
    expect((await waitForRun(key, started.id, ended)).status).toBe('stopped');
  });

  it('stops a paused run: the parked execution wakes up and ends as stopped', async () => {
    const { key } = await newTenant();
    const stream = await createStream(key, usageDefinition(unique('usage'), { mode: 'continuous' }));
    const started = await startRun(key, stream.id);
    expect((await api('POST', `/v1/runs/${started.id}/pause`, { key })).status).toBe(200);
    await waitForRun(key, started.id, (r) => r.status === 'paused');
    const stop = await api('POST', `/v1/runs/${started.id}/stop`, { key });
    expect(stop.status).toBe(200);
    const run = await waitForRun(key, started.id, ended);
    expect(run).toMatchObject({ status: 'stopped', desiredStatus: 'stopped' });
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).body.activeRun).toBeNull();
    expect((await api('POST', `/v1/runs/${started.id}/resume`, { key })).status).toBe(409);
  });

  it('ends at limits.elapsedTime as time_limit_reached', async () => {
    const { key } = await newTenant();
    const stream = await createStream(key, usageDefinition(unique('usage'), { mode: 'continuous', limits: { elapsedTime: 2 } }));
    const run = await waitForRun(key, (await startRun(key, stream.id)).id, ended, 30_000);
    expect(run.status).toBe('time_limit_reached');
  });
});

describe('runs API', () => {
  it('answers 404 for an unknown run and for another solution’s run', async () => {
    const { key } = await newTenant();
    expect((await api('GET', '/v1/runs/run_01ARZ3NDEKTSV4RRFFQ69G5FAV', { key })).status).toBe(404);
    expect((await api('POST', '/v1/runs/run_01ARZ3NDEKTSV4RRFFQ69G5FAV/pause', { key })).status).toBe(404);
    expect((await api('GET', '/v1/runs/run_01ARZ3NDEKTSV4RRFFQ69G5FAV/stats', { key })).status).toBe(404);

    const other = await newTenant();
    const stream = await createStream(other.key, usageDefinition(unique('usage')));
    const run = await waitForRun(other.key, (await startRun(other.key, stream.id)).id, ended);
    expect(run.status).toBe('finished');
    expect((await api('GET', `/v1/runs/${run.id}`, { key })).status).toBe(404);
    expect((await api('POST', `/v1/streams/${stream.id}/start`, { key })).status).toBe(404);
  });

  it('lists every stream in /v1/stats with lowercase statuses and filters by stream, status and group', async () => {
    const { key } = await newTenant();
    const done = await createStream(key, usageDefinition(unique('usage')));
    await appendNdjson(key, done.id, usageRecords(50));
    const run = await waitForRun(key, (await startRun(key, done.id)).id, ended);
    const idle = await createStream(key, usageDefinition(unique('usage')));
    const group = await api('POST', '/v1/stream-groups', { key, body: { name: unique('g'), streams: [done.id] } });
    expect(group.status, group.text).toBe(201);

    const all = await api('GET', '/v1/stats', { key });
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(2);
    for (const item of all.body.items) expect(item.status).toBe(item.status.toLowerCase());
    const doneItem = all.body.items.find((i: any) => i.streamId === done.id);
    expect(doneItem).toMatchObject({
      status: 'finished',
      runId: run.id,
      deploymentPhase: 'undeployed',
      in: { records: 50 },
      failed: 0,
      groups: [{ id: group.body.id, name: group.body.name }],
    });
    expect(all.body.items.find((i: any) => i.streamId === idle.id)).toMatchObject({ status: 'idle', runId: null, groups: [] });

    expect((await api('GET', `/v1/stats?streamId=${idle.id}`, { key })).body.items.map((i: any) => i.streamId)).toEqual([idle.id]);
    expect((await api('GET', '/v1/stats?status=FINISHED', { key })).body.items.map((i: any) => i.streamId)).toEqual([done.id]);
    expect((await api('GET', `/v1/stats?groupId=${group.body.id}`, { key })).body.items.map((i: any) => i.streamId)).toEqual([done.id]);
    const paged = await api('GET', '/v1/stats?limit=1', { key });
    expect(paged.body.items).toHaveLength(1);
    const rest = await api('GET', `/v1/stats?limit=1&cursor=${paged.body.nextCursor}`, { key });
    expect(rest.body.items).toHaveLength(1);
    expect(rest.body.items[0].streamId).not.toBe(paged.body.items[0].streamId);
  });

  it('filters aggregation-store items by key prefix and pages them', async () => {
    const { key } = await newTenant();
    const store = unique('usage');
    const records = usageRecords(400);
    const stream = await createStream(key, usageDefinition(store));
    await appendNdjson(key, stream.id, records);
    await waitForRun(key, (await startRun(key, stream.id)).id, ended);
    const some = await api('GET', `/v1/aggregation-stores/${store}/items?key=acct-1`, { key });
    expect(some.status).toBe(200);
    expect(some.body.items.length).toBeGreaterThan(0);
    for (const item of some.body.items) expect(item.key.startsWith('acct-1')).toBe(true);
    const page = await api('GET', `/v1/aggregation-stores/${store}/items?limit=5`, { key });
    expect(page.body.items).toHaveLength(5);
    expect(page.body.nextCursor).toBeTruthy();
    // Another solution sees nothing of this store.
    const other = await newTenant();
    expect((await api('GET', `/v1/aggregation-stores/${store}/items`, { key: other.key })).body.items).toEqual([]);
  });
});

describe('dataset and packet nodes', () => {
  it('maps packets into a dataset, reads that dataset into a meter, and forwards records to another stream as packets', async () => {
    const { key } = await newTenant();
    const records = usageRecords(1_200, 4);
    const into = await createStream(key, {
      nodes: [
        { id: 'in', type: 'http-collector', config: { format: 'ndjson' } },
        { id: 'double', type: 'map', config: { expression: '{"account": account, "units": units * 2}' } },
        { id: 'ds', type: 'dataset', config: { updateMethod: 'APPEND' } },
      ],
      edges: [
        { from: 'in', to: 'double' },
        { from: 'double', to: 'ds' },
      ],
      settings: { dataBundleSize: 500 },
    });
    await appendNdjson(key, into.id, records);
    const loaded = await waitForRun(key, (await startRun(key, into.id)).id, ended);
    expect(loaded.status).toBe('finished');
    const dataset = await api('GET', `/v1/streams/${into.id}/dataset`, { key });
    expect(dataset.status, dataset.text).toBe(200);
    expect(dataset.body.rows).toBe(1_200);

    const store = unique('doubled');
    const reader = await createStream(key, {
      nodes: [
        { id: 'rows', type: 'dataset-source', config: { streamId: into.id } },
        { id: 'meter', type: 'meter', config: { groupBy: ['account'], aggregates: { units: { fn: 'sum', field: 'units' }, records: { fn: 'count' } } } },
        { id: 'store', type: 'aggregation-store', name: store, config: {} },
      ],
      edges: [
        { from: 'rows', to: 'meter' },
        { from: 'meter', to: 'store' },
      ],
      settings: { dataBundleSize: 500 },
    });
    expect((await waitForRun(key, (await startRun(key, reader.id)).id, ended)).status).toBe('finished');
    const expected: Record<string, { units: number; records: number }> = {};
    for (const r of records) {
      expected[r.account] ??= { units: 0, records: 0 };
      expected[r.account].units += r.units * 2;
      expected[r.account].records += 1;
    }
    expect(await storeTotals(key, store)).toEqual(expected);

    const target = await createStream(key, usageDefinition(unique('usage')));
    const forwarder = await createStream(key, {
      nodes: [
        { id: 'in', type: 'http-collector', config: { format: 'ndjson' } },
        { id: 'eu', type: 'filter', config: { expression: 'region = "eu"' } },
        { id: 'out', type: 'packet-sink', config: { streamId: target.id } },
      ],
      edges: [
        { from: 'in', to: 'eu' },
        { from: 'eu', to: 'out' },
      ],
      settings: { dataBundleSize: 400 },
    });
    await appendNdjson(key, forwarder.id, records);
    expect((await waitForRun(key, (await startRun(key, forwarder.id)).id, ended)).status).toBe('finished');
    // One packet per bundle; the target stream's own run reads them back.
    const forwarded = await waitForRun(key, (await startRun(key, target.id)).id, ended);
    expect(forwarded.stats.totals.in).toBe(records.filter((r) => r.region === 'eu').length);
  });
});
