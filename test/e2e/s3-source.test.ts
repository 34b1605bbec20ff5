import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { api, newTenant, recordingApi, unique } from '../support/api.ts';
import { createStream, ended, packetRecords, startRun, waitForRun } from '../support/runs.ts';
import { tableReader } from '../support/dynamo.ts';

/**
 * s3 connections and the s3-source node through HTTP. The local runtime's S3
 * server plays an external bucket: the test creates it and writes the objects
 * with its own client, the connection points at it like at any S3 endpoint.
 */
const env = inject('runtimeEnv');
const s3 = new S3Client({
  endpoint: env.AWS_ENDPOINT_URL_S3,
  region: env.AWS_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
});

/** Every response of this file, to prove a secret key never comes back. */
const { call, seen } = recordingApi();

async function bucketWith(objects: Record<string, string>): Promise<string> {
  const bucket = unique('ext');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await putObjects(bucket, objects);
  return bucket;
}

async function putObjects(bucket: string, objects: Record<string, string>) {
  for (const [key, body] of Object.entries(objects)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(body) }));
}

const s3Body = (bucket: string, overrides: Record<string, unknown> = {}) => ({
  name: unique('s3'),
  type: 'S3',
  host: env.AWS_ENDPOINT_URL_S3,
  database: bucket,
  username: env.AWS_ACCESS_KEY_ID,
  password: env.AWS_SECRET_ACCESS_KEY,
  options: { region: env.AWS_REGION },
  ...overrides,
});

async function createConnection(key: string, body: Record<string, unknown>): Promise<string> {
  const created = await call('POST', '/v1/connections', { key, body });
  expect(created.status, created.text).toBe(201);
  return created.body.id;
}

/** A stream whose packet log collects what a packet-sink writes; read back with packetRecords. */
const collector = (key: string) =>
  createStream(key, {
    nodes: [
      { id: 'in', type: 'http-collector', config: { format: 'ndjson' } },
      { id: 'rows', type: 'dataset', config: {} },
    ],
    edges: [{ from: 'in', to: 'rows' }],
  });

/** s3-source (config as given) → packet-sink into `target`, two records per bundle so objects span bundles. */
const s3Definition = (source: Record<string, unknown>, target: string) => ({
  nodes: [
    { id: 'src', type: 's3-source', config: source },
    { id: 'out', type: 'packet-sink', config: { streamId: target } },
  ],
  edges: [{ from: 'src', to: 'out' }],
  settings: { dataBundleSize: 2 },
});

const runToEnd = async (key: string, streamId: string) => waitForRun(key, (await startRun(key, streamId)).id, ended);

async function sourceStats(key: string, runId: string) {
  const stats = await api('GET', `/v1/runs/${runId}/stats`, { key });
  expect(stats.status, stats.text).toBe(200);
  return stats.body.nodes.find((n: { nodeId: string }) => n.nodeId === 'src');
}

const NDJSON = {
  'in/2024-01-01.ndjson': '{"id":1,"name":"ann","tags":["a","b"]}\n{"id":2,"name":"bo","nested":{"x":1.5,"ok":true}}\n\n',
  // Line 2 is not JSON; line 3 is a JSON scalar (a record {value}); CRLF line ends are fine.
  'in/2024-01-02.ndjson': '{"id":3,"name":"cy"}\r\n{"id": 4, "name": \r\n42\r\n{"id":5,"name":"dé"}',
  // Folder markers as S3 consoles create them, a dozen before the first object, and objects outside the prefix: not read (paging past markers: test/unit/s3-source.test.ts).
  ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`in/2024-00-empty-${String(i).padStart(2, '0')}/`, ''])),
  'other/2024-01-01.ndjson': '{"id":99}\n',
  'input.ndjson': '{"id":98}\n',
};
const GOOD_NDJSON = [
  { id: 1, name: 'ann', tags: ['a', 'b'] },
  { id: 2, name: 'bo', nested: { x: 1.5, ok: true } },
  { id: 3, name: 'cy' },
  { value: 42 },
  { id: 5, name: 'dé' },
];

describe('s3 connections', () => {
  it('pings a bucket of the local S3 server: ok, then 503 with the reason for a missing bucket and for an unknown access key', async () => {
    const { key } = await newTenant();
    const bucket = await bucketWith({});
    const good = await call('POST', '/v1/connections', { key, body: s3Body(bucket) });
    expect(good.status, good.text).toBe(201);
    // The endpoint URL carries the port: it is the one answered (given or not), on both faces.
    const endpointPort = Number(new URL(env.AWS_ENDPOINT_URL_S3).port);
    expect(good.body).toMatchObject({ type: 's3', host: env.AWS_ENDPOINT_URL_S3, port: endpointPort, database: bucket, username: env.AWS_ACCESS_KEY_ID, hasPassword: true });
    expect((await call('GET', `/api/v1/connections/${good.body.id}`, { key })).body.port).toBe(endpointPort);
    const ignoredPort = await call('POST', '/v1/connections', { key, body: s3Body(bucket, { port: 9 }) });
    expect(ignoredPort.body.port).toBe(endpointPort);
    const aws = await call('POST', '/v1/connections', { key, body: s3Body(bucket, { host: 'https://s3.eu-west-1.amazonaws.com' }) });
    expect(aws.body.port).toBe(443);
    expect(good.body).not.toHaveProperty('password');
    const ping = await call('POST', `/v1/connections/${good.body.id}/ping`, { key });
    expect(ping.status, ping.text).toBe(200);
    expect(ping.body).toEqual({ ok: true, latencyMs: expect.any(Number) });

    // The endpoint as host + port + ssl:false instead of a URL.
    const { hostname, port } = new URL(env.AWS_ENDPOINT_URL_S3);
    const hostPort = await createConnection(key, s3Body(bucket, { host: hostname, port: Number(port), ssl: false }));
    expect((await call('POST', `/v1/connections/${hostPort}/ping`, { key })).body).toEqual({ ok: true, latencyMs: expect.any(Number) });

    const missing = await createConnection(key, s3Body(`${bucket}-missing`));
    const pingMissing = await call('POST', `/v1/connections/${missing}/ping`, { key });
    expect(pingMissing.status).toBe(503);
    expect(pingMissing.body).toEqual({ ok: false, error: `bucket ${bucket}-missing does not exist (HTTP 404)` });

    // (The local server knows one access key id and does not check SigV4 signatures of plain requests: an unknown key id is refused.)
    const wrongKey = await createConnection(key, s3Body(bucket, { username: 'AKIANOTAKNOWNKEY', password: 'not-the-Secret-42' }));
    const pingWrong = await call('POST', `/v1/connections/${wrongKey}/ping`, { key });
    expect(pingWrong.status).toBe(503);
    expect(pingWrong.body).toEqual({ ok: false, error: `access to bucket ${bucket} denied (HTTP 403): check the access key pair and the bucket policy` });
  });

  it('tests an unsaved s3 connection through the DBConvert face', async () => {
    const { key } = await newTenant();
    const bucket = await bucketWith({});
    const { name: _, ...unsaved } = s3Body(bucket);
    const ok = await call('POST', '/api/v1/connections/test', { key, body: unsaved });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ ping: 'ok', latencyMs: expect.any(Number) });
    const failed = await call('POST', '/api/v1/connections/test', { key, body: { ...unsaved, database: `${bucket}-missing` } });
    expect(failed.status).toBe(503);
    expect(failed.body).toEqual({ ping: 'failed', error: `bucket ${bucket}-missing does not exist (HTTP 404)` });
  });

  it('refuses an s3 connection without a bucket with 400', async () => {
    const { key } = await newTenant();
    const res = await call('POST', '/v1/connections', { key, body: s3Body('') });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ message: 'database (the bucket name) is required for an s3 connection', details: [{ path: 'database', message: 'required' }] });
  });
});

describe('s3-source', () => {
  it('reads the NDJSON objects under a prefix in key order, skips a line that is not JSON, and a later run reads only new objects', async () => {
    const { key } = await newTenant();
    const bucket = await bucketWith(NDJSON);
    const connectionId = await createConnection(key, s3Body(bucket));
    const target = await collector(key);
    const stream = await createStream(key, s3Definition({ connectionId, prefix: 'in/', format: 'ndjson' }, target.id));

    const run = await runToEnd(key, stream.id);
    expect(run.status, JSON.stringify(run)).toBe('finished');
    expect(await packetRecords(key, target.id)).toEqual(GOOD_NDJSON);
    // bytesIn: the objects' bytes, every one of them (lines bad or good, line ends, blank lines).
    const objectBytes = Object.entries(NDJSON)
      .filter(([objectKey]) => objectKey.startsWith('in/'))
      .reduce((n, [, text]) => n + Buffer.byteLength(text), 0);
    expect(await sourceStats(key, run.id)).toMatchObject({ in: 6, out: 5, failed: 1, bytesIn: objectBytes });
    expect(run.recentErrors).toEqual([
      {
        code: 'record_failed',
        nodeId: 'src',
        message: expect.stringMatching(/^in\/2024-01-02\.ndjson line 2: not JSON: /),
        record: '{"id": 4, "name":',
        at: expect.any(String),
      },
    ]);
    const offsets = await api('GET', `/v1/streams/${stream.id}/offsets`, { key });
    expect(offsets.body.offsets.src).toEqual({ key: 'in/2024-01-02.ndjson', done: true });

    // An object with a greater key arrives: the next run reads it and nothing else.
    await putObjects(bucket, { 'in/2024-01-03.ndjson': '{"id":6}\n{"id":7}\n{"id":8}\n' });
    const again = await runToEnd(key, stream.id);
    expect(again.status).toBe('finished');
    expect(again.stats.totals).toMatchObject({ in: 3, failed: 0 });
    expect(await packetRecords(key, target.id)).toEqual([...GOOD_NDJSON, { id: 6 }, { id: 7 }, { id: 8 }]);

    // The connection is in use: it cannot be deleted.
    const refused = await call('DELETE', `/v1/connections/${connectionId}`, { key });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(stream.id);
  });

  it('reads in a batch run the objects there when it started; one added meanwhile with a greater key is left for the next run', async () => {
    const { key } = await newTenant();
    const bucket = await bucketWith({ 'in/1.ndjson': '{"n":1}\n{"n":2}\n', 'in/2.ndjson': '{"n":3}\n{"n":4}\n', 'in/3.ndjson': '{"n":5}\n{"n":6}\n' });
    const connectionId = await createConnection(key, s3Body(bucket));
    const target = await collector(key);
    // Two records per bundle and a pause before each: three bundles take a few seconds.
    const stream = await createStream(key, s3Definition({ connectionId, prefix: 'in/' }, target.id), '[test:bundle-delay-ms=700]');
    const run = await startRun(key, stream.id);
    const started = await waitForRun(key, run.id, (r) => r.stats.totals.in > 0 || ended(r));
    expect(started.status).toBe('running');
    await putObjects(bucket, { 'in/4.ndjson': '{"n":7}\n' });
    const first = await waitForRun(key, run.id, ended);
    expect(first.status).toBe('finished');
    expect(await packetRecords(key, target.id)).toEqual([1, 2, 3, 4, 5, 6].map((n) => ({ n })));
    const again = await runToEnd(key, stream.id);
    expect(again.stats.totals).toMatchObject({ in: 1 });
    expect(await packetRecords(key, target.id)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => ({ n })));
  });

  it('fails the run at the bad line with onError fail, after committing the bundles before it', async () => {
    const { key } = await newTenant();
    const bucket = await bucketWith(NDJSON);
    const connectionId = await createConnection(key, s3Body(bucket));
    const target = await collector(key);
    const stream = await createStream(key, s3Definition({ connectionId, prefix: 'in/', onError: 'fail' }, target.id));
    const run = await runToEnd(key, stream.id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'Sluice.RecordFailed', message: expect.stringMatching(/^node src: in\/2024-01-02\.ndjson line 2: not JSON: /) });
    // Bundle 1 (the first object) was committed; bundle 2 (record 3 and the bad line) was not.
    expect(await packetRecords(key, target.id)).toEqual(GOOD_NDJSON.slice(0, 2));
    expect((await api('GET', `/v1/streams/${stream.id}/offsets`, { key })).body.offsets.src).toEqual({ key: 'in/2024-01-01.ndjson', done: true });
  });

  it('reads CSV objects with a header row as string records; an object that is not CSV is one failed record', async () => {
    const { key } = await newTenant();
    const objects = {
      'csv/a.csv': 'id,name,city\n1,ann,"Oslo, NO"\n2,"bo ""b""",Rome\n\n3,cy,\n',
      // An unclosed quote: the object is one failure and none of its rows are read.
      'csv/b.csv': 'id,name\n4,dan\n5,"eve\n',
      // A row with more fields than the header: the same.
      'csv/c.csv': 'id,name\n6,fay,extra\n',
      // A byte order mark and CRLF line ends are fine.
      'csv/d.csv': '\ufeffid,name\r\n7,gus\r\n',
    };
    const bucket = await bucketWith(objects);
    const connectionId = await createConnection(key, s3Body(bucket));
    const target = await collector(key);
    const stream = await createStream(key, s3Definition({ connectionId, prefix: 'csv/', format: 'csv' }, target.id));
    const run = await runToEnd(key, stream.id);
    expect(run.status, JSON.stringify(run)).toBe('finished');
    const records = [
      { id: '1', name: 'ann', city: 'Oslo, NO' },
      { id: '2', name: 'bo "b"', city: 'Rome' },
      { id: '3', name: 'cy', city: '' },
      { id: '7', name: 'gus' },
    ];
    expect(await packetRecords(key, target.id)).toEqual(records);
    // bytesIn of CSV: the raw bytes read, header, BOM and line ends included, so every object counts its length (one that does not parse too).
    expect(await sourceStats(key, run.id)).toMatchObject({ in: 6, out: 4, failed: 2, bytesIn: Object.values(objects).reduce((n, text) => n + Buffer.byteLength(text), 0) });
    expect(run.recentErrors.map((e: { message: string }) => e.message)).toEqual([
      expect.stringMatching(/^csv\/b\.csv: not CSV: Quote Not Closed/),
      expect.stringMatching(/^csv\/c\.csv: not CSV: Invalid Record Length/),
    ]);
  });

  it('reads the solution’s own prefix of the Sluice bucket when no connection is given', async () => {
    const { key, solution } = await newTenant();
    const other = await newTenant();
    await putObjects(env.BUCKET_NAME, {
      [`solutions/${solution.id}/imports/1.ndjson`]: '{"mine":1}\n',
      [`solutions/${other.solution.id}/imports/1.ndjson`]: '{"theirs":1}\n',
    });
    const target = await collector(key);
    const stream = await createStream(key, s3Definition({ prefix: 'imports/' }, target.id));
    expect((await runToEnd(key, stream.id)).status).toBe('finished');
    expect(await packetRecords(key, target.id)).toEqual([{ mine: 1 }]);
    // Nor can an offset set by hand point it at another solution's objects.
    const reset = (offset: unknown) => call('POST', `/v1/streams/${stream.id}/offsets/reset`, { key, body: { offsets: { src: offset } } });
    const theirs = await reset({ key: `solutions/${other.solution.id}/imports/1.ndjson`, line: 0 });
    expect(theirs.status).toBe(400);
    expect(theirs.body.error.details).toEqual([{ path: 'offsets.src.key', message: `must start with solutions/${solution.id}/imports/` }]);
    expect((await reset({ key: `solutions/${solution.id}/imports/1.ndjson`, line: 0 })).status).toBe(200);
    // `{}`, what a source that has read nothing commits, is the beginning: the next run reads the object again.
    expect((await reset({})).status).toBe(200);
    expect((await runToEnd(key, stream.id)).status).toBe('finished');
    expect(await packetRecords(key, target.id)).toEqual([{ mine: 1 }, { mine: 1 }]);
    // A bucket of its own needs a connection: it is refused rather than silently read from the Sluice bucket.
    const refused = await call('POST', '/v1/streams', { key, body: { name: unique('s3-bucket'), definition: s3Definition({ bucket: 'some-bucket', prefix: 'imports/' }, target.id) } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.map((d: { path: string }) => d.path)).toEqual(['definition.nodes[0].config.bucket']);
  });

  it('fails the run with the bucket’s name when the connection’s bucket does not exist', async () => {
    const { key } = await newTenant();
    const bucket = unique('ext-missing');
    const connectionId = await createConnection(key, s3Body(bucket));
    const target = await collector(key);
    const stream = await createStream(key, s3Definition({ connectionId, prefix: 'in/' }, target.id));
    const run = await runToEnd(key, stream.id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'NoSuchBucket', message: `bucket ${bucket}: The specified bucket does not exist` });
  });

  it('fails the run as a configuration error naming the node and both types when a node names a connection of a type it cannot use (stored before writes checked it)', async () => {
    const { key } = await newTenant();
    const bucket = await bucketWith({ 'in/a.ndjson': '{"id":1}\n' });
    const s3Connection = await createConnection(key, s3Body(bucket));
    const pg = await createConnection(key, { name: unique('pg'), type: 'postgresql', host: '127.0.0.1', database: 'db', username: 'u' });
    const target = await collector(key);
    const stream = await createStream(key, s3Definition({ connectionId: s3Connection, prefix: 'in/' }, target.id));
    // Stream writes refuse such a node (400) now: put it into the stored definition, as an older write left it.
    const { client, tableName } = tableReader();
    const storeSource = (node: Record<string, unknown>) =>
      client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { PK: `STM#${stream.id}`, SK: 'STREAM' },
          UpdateExpression: 'SET #def.#nodes[0] = :node',
          ExpressionAttributeNames: { '#def': 'definition', '#nodes': 'nodes' },
          ExpressionAttributeValues: { ':node': node },
        }),
      );
    for (const [node, message] of [
      [{ id: 'src', type: 's3-source', config: { connectionId: pg, prefix: 'in/', format: 'ndjson' } }, `node src: connection ${pg} is a postgresql connection; an s3-source needs s3`],
      [{ id: 'src', type: 'table-source', config: { connectionId: s3Connection, tables: [{ name: 't' }] } }, `node src: connection ${s3Connection} is an s3 connection; a table-source needs postgresql or mysql`],
    ] as const) {
      await storeSource(node);
      const run = await runToEnd(key, stream.id);
      expect(run.status).toBe('failed');
      expect(run.error).toMatchObject({ code: 'Sluice.Configuration', message });
    }
    expect(await packetRecords(key, target.id)).toEqual([]);
  });
});

it('never returns a secret key in any response of this file', () => {
  // (The local server's own secret equals its access key id, which is returned as `username`: only the made-up one is checked.)
  expect(seen.length).toBeGreaterThan(10);
  for (const res of seen) expect(res.text).not.toContain('not-the-Secret-42');
});
