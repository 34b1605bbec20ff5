import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { api, newTenant, packetStream, unique } from '../support/api.ts';
import { appendNdjson, createStream, ended, startRun, usageDefinition, usageRecords, waitForRun } from '../support/runs.ts';

// The test reads the table, the bucket and the executions the way the handlers do.
Object.assign(process.env, inject('runtimeEnv'));
const { ddb, tableName } = await import('#shared/store/client.ts');
const { s3, bucketName } = await import('#shared/blobs/client.ts');
const { sfn } = await import('#shared/workflows/sfn.ts');
const { purgePass } = await import('#shared/services/purge.ts');
const { sweepPurges, STALE_PURGE_MS } = await import('#shared/services/purge-sweep.ts');
const { firstPurgeStatus } = await import('#shared/workflows/purge.ts');

const tombstoned = async (id: string) => (await ddb.send(new GetCommand({ TableName: tableName(), Key: { PK: 'PURGE', SK: id }, ConsistentRead: true }))).Item !== undefined;
const itemsIn = async (pk: string) =>
  (await ddb.send(new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true }))).Count ?? 0;

const partitions = (id: string) => [`STM#${id}`, `STM#${id}#DATA`, `STM#${id}#PKT`, `STM#${id}#RCPT`, `STM#${id}#META`, `STM#${id}#SES`];

/** Items per partition of the stream, and its objects in S3. */
async function leftovers(solutionId: string, id: string) {
  const items: Record<string, number> = {};
  for (const partition of partitions(id)) items[partition] = await itemsIn(partition);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucketName(), Prefix: `solutions/${solutionId}/streams/${id}/` }));
  return { items, objects: listed.KeyCount ?? 0, tombstone: await tombstoned(id) };
}

/** A stream with packets, a bundle built for a download, a session, metadata and a tagged version. */
async function streamWithData() {
  const { stream, ...tenant } = await packetStream();
  const id = stream.id;
  for (let n = 1; n <= 5; n++) {
    const appended = await api('POST', `/v1/streams/${id}/packets`, { key: tenant.key, raw: Buffer.from(`packet ${n}`), headers: { 'content-type': 'application/octet-stream' } });
    expect(appended.status, appended.text).toBe(201);
  }
  expect((await api('GET', `/v1/streams/${id}/data?start=1&stop=5`, { key: tenant.key })).status).toBe(302);
  expect((await api('POST', `/v1/streams/${id}/sessions`, { key: tenant.key, body: { start: 1, stop: 3 } })).status).toBe(201);
  expect((await api('PUT', `/v1/streams/${id}/metadata/2`, { key: tenant.key, body: { gps: [1, 2] } })).status).toBeLessThan(300);
  expect((await api('POST', `/v1/streams/${id}/versions`, { key: tenant.key, body: { tag: 'v1' } })).status).toBe(201);
  return { ...tenant, id };
}

describe('deleting a stream', () => {
  it('purges its partitions and objects in the background, then its tombstone', async () => {
    const { key, solution, id } = await streamWithData();
    const before = await leftovers(solution.id, id);
    for (const partition of partitions(id)) expect(before.items[partition], partition).toBeGreaterThan(0);
    expect(before.objects).toBeGreaterThanOrEqual(6); // five packets and the bundle

    expect((await api('DELETE', `/v1/streams/${id}`, { key })).status).toBe(204);
    expect((await api('GET', `/v1/streams/${id}`, { key })).status).toBe(404);

    await expect.poll(() => leftovers(solution.id, id), { timeout: 30_000, interval: 250 }).toEqual({
      items: Object.fromEntries(partitions(id).map((partition) => [partition, 0])),
      objects: 0,
      tombstone: false,
    });
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: `${process.env.PURGE_STATE_MACHINE_ARN!.replace(':stateMachine:', ':execution:')}:purge-${id}` }));
    expect(execution.status).toBe('SUCCEEDED');
  });

  it('purges its runs with them', async () => {
    const { key, solution } = await newTenant();
    const stream = await createStream(key, usageDefinition(unique('purge-runs')));
    await appendNdjson(key, stream.id, usageRecords(20), 10);
    const run = await waitForRun(key, (await startRun(key, stream.id)).id, ended);
    expect(run.status).toBe('finished');
    expect(await itemsIn(`RUN#${run.id}`)).toBeGreaterThan(0);

    expect((await api('DELETE', `/v1/streams/${stream.id}`, { key })).status).toBe(204);
    await expect
      .poll(async () => ({ runItems: await itemsIn(`RUN#${run.id}`), offsets: await itemsIn(`STM#${stream.id}`), tombstone: await tombstoned(stream.id) }), { timeout: 30_000, interval: 250 })
      .toEqual({ runItems: 0, offsets: 0, tombstone: false });
    expect((await api('GET', `/v1/runs/${run.id}`, { key })).status).toBe(404);
    expect((await leftovers(solution.id, stream.id)).objects).toBe(0);
  });

  it('whose purge Step Functions refuses to start is still deleted, and the sweep purges it later', async () => {
    const { key, solution, id } = await streamWithData();
    const marked = await api('PATCH', `/v1/streams/${id}`, { key, body: { description: 'purge refused [test:refuse-start-execution=1]' } });
    expect(marked.status, marked.text).toBe(200);
    const before = await leftovers(solution.id, id);

    expect((await api('DELETE', `/v1/streams/${id}`, { key })).status).toBe(204);
    expect((await api('GET', `/v1/streams/${id}`, { key })).status).toBe(404);
    // No purge ran: the data and the tombstone stay for the sweep.
    const target = { streamId: id, solutionId: solution.id, cdcSources: [] };
    expect(await firstPurgeStatus(target)).toBeUndefined();
    const after = await leftovers(solution.id, id);
    expect(after.tombstone).toBe(true);
    expect(after.objects).toBe(before.objects);
    // The stream's own item went with the delete; its data partitions wait for the purge.
    for (const partition of partitions(id).slice(1)) expect(after.items[partition], partition).toBe(before.items[partition]);

    // An hour on, the sweep finds the tombstone and starts the purge.
    const deletedAt = new Date(Date.now() - STALE_PURGE_MS - 1000).toISOString();
    await ddb.send(new UpdateCommand({ TableName: tableName(), Key: { PK: 'PURGE', SK: id }, UpdateExpression: 'SET deletedAt = :at', ExpressionAttributeValues: { ':at': deletedAt } }));
    expect((await sweepPurges()).restarted).toContain(id);
    await expect.poll(() => leftovers(solution.id, id), { timeout: 30_000, interval: 250 }).toEqual({
      items: Object.fromEntries(partitions(id).map((partition) => [partition, 0])),
      objects: 0,
      tombstone: false,
    });
  });

  it('never purges a stream that exists', async () => {
    const { solution, id } = await streamWithData();
    const before = await leftovers(solution.id, id);
    expect(await purgePass({ streamId: id, solutionId: solution.id })).toMatchObject({ done: true, items: 0, objects: 0, skipped: `stream ${id} exists` });
    expect(await leftovers(solution.id, id)).toEqual(before);
  });

  it('of a group purges its group runs with their pins and markers; its streams and their runs stay', async () => {
    const { key } = await newTenant();
    const stream = await createStream(key, usageDefinition(unique('grp-purge')));
    await appendNdjson(key, stream.id, usageRecords(20), 10);
    const group = await api('POST', '/v1/stream-groups', { key, body: { name: unique('group'), streams: [stream.id] } });
    expect(group.status, group.text).toBe(201);
    const started = await api('POST', `/v1/stream-groups/${group.body.id}/start`, { key });
    expect(started.status, started.text).toBe(201);
    await expect.poll(async () => (await api('GET', `/v1/group-runs/${started.body.id}`, { key })).body.status, { timeout: 45_000, interval: 200 }).toBe('finished');
    expect(await itemsIn(`GRUN#${started.body.id}`)).toBeGreaterThan(1); // the run and its pins

    expect((await api('DELETE', `/v1/stream-groups/${group.body.id}`, { key })).status).toBe(204);
    await expect
      .poll(async () => ({ runItems: await itemsIn(`GRUN#${started.body.id}`), tombstone: await tombstoned(group.body.id) }), { timeout: 30_000, interval: 250 })
      .toEqual({ runItems: 0, tombstone: false });
    expect((await api('GET', `/v1/group-runs/${started.body.id}`, { key })).status).toBe(404);
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).status).toBe(200);
    expect((await api('GET', `/v1/streams/${stream.id}/runs`, { key })).body.items).toHaveLength(1);
  });

});

describe('the purge sweep', () => {
  it('purges, from its tombstone, a deleted stream whose purge never started', async () => {
    // As a delete leaves things when Step Functions was down: no stream item, leftovers, a tombstone an hour old.
    const { solution } = await newTenant();
    const id = `stm_sweep${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const target = { streamId: id, solutionId: solution.id, cdcSources: [] };
    await ddb.send(new PutCommand({ TableName: tableName(), Item: { PK: `STM#${id}#PKT`, SK: '000000000001', objectKey: 'x' } }));
    await s3.send(new PutObjectCommand({ Bucket: bucketName(), Key: `solutions/${solution.id}/streams/${id}/packets/abc`, Body: 'bytes' }));
    await ddb.send(new PutCommand({ TableName: tableName(), Item: { PK: 'PURGE', SK: id, type: 'purge', solutionId: solution.id, target, deletedAt: new Date(Date.now() - STALE_PURGE_MS - 1000).toISOString() } }));

    expect((await sweepPurges()).restarted).toContain(id);
    await expect
      .poll(async () => ({ ...(await leftovers(solution.id, id)).items, tombstone: await tombstoned(id) }), { timeout: 30_000, interval: 250 })
      .toMatchObject({ [`STM#${id}#PKT`]: 0, tombstone: false });
    expect((await leftovers(solution.id, id)).objects).toBe(0);
  });

  it('runs hourly in the local runtime, as the stack schedules it', async () => {
    const schedule = await new SchedulerClient({}).send(new GetScheduleCommand({ Name: 'purge-sweep', GroupName: process.env.SCHEDULER_GROUP }));
    expect(schedule.ScheduleExpression).toBe('rate(1 hour)');
    expect(schedule.Target?.Arn).toMatch(/function:sluice-events-purge-sweep$/);
  });
});
