import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { newTenant, recordingApi, unique } from '../support/api.ts';
import { dbconvertConnectionBody } from '../support/connections.ts';
import { createPgItems, ITEM_COLUMNS, tableChecksums, tableName, testDatabases } from '../support/sql-fixtures.ts';

const dbs = () => inject('databases');
/** Every response of this file, to prove no password ever comes back. */
const { call, seen } = recordingApi();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const connBody = dbconvertConnectionBody;

async function waitFor(key: string, streamId: string, done: (stats: any) => boolean, timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const stats = await call('GET', `/api/v1/streams/${streamId}/stats`, { key });
    expect(stats.status).toBe(200);
    if (done(stats.body)) return stats.body;
    if (Date.now() > until) throw new Error(`timed out waiting; last stats ${JSON.stringify(stats.body)}`);
    await sleep(250);
  }
}
const ended = (s: any) => !['RUNNING', 'PAUSED'].includes(s.source.status);

describe('DBConvert face /api/v1', () => {
  const db = testDatabases();
  let tenant: Awaited<ReturnType<typeof newTenant>>;
  let source: string;
  let target: string;
  beforeAll(async () => {
    tenant = await newTenant();
    source = (await call('POST', '/api/v1/connections', { key: tenant.key, body: connBody('postgresql') })).body.id;
    target = (await call('POST', '/api/v1/connections', { key: tenant.key, body: connBody('mysql') })).body.id;
  });

  it('answers health without a key and errors as {"error": "..."}', async () => {
    const health = await call('GET', '/api/v1/health', { key: null });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ping: 'ok' });
    const noKey = await call('GET', '/api/v1/stream-configs', { key: null });
    expect(noKey.status).toBe(401);
    expect(noKey.body).toEqual({ error: expect.any(String) });
  });

  it('manages connections: any type casing, ping ok / 503 failed, test of an unsaved connection', async () => {
    const { key } = tenant;
    const created = await call('POST', '/api/v1/connections', { key, body: connBody('postgresql', { type: 'postgresql' }) });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^conn_/), name: expect.any(String), type: 'postgresql', host: '127.0.0.1', port: dbs().postgresql.port,
      username: 'sluice', database: 'sluice', created: expect.any(Number),
    });
    expect((await call('GET', `/api/v1/connections/${created.body.id}`, { key })).body).toEqual(created.body);
    const list = await call('GET', '/api/v1/connections', { key });
    expect(list.body.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining([source, target, created.body.id]));
    for (const id of [source, target]) {
      const ping = await call('POST', `/api/v1/connections/${id}/ping`, { key });
      expect(ping.status).toBe(200);
      expect(ping.body.ping).toBe('ok');
    }
    const wrong = await call('POST', '/api/v1/connections', { key, body: connBody('mysql', { password: 'wrong-Passw0rd-x' }) });
    const pingWrong = await call('POST', `/api/v1/connections/${wrong.body.id}/ping`, { key });
    expect(pingWrong.status).toBe(503);
    expect(pingWrong.body).toMatchObject({ ping: 'failed', error: expect.stringMatching(/Access denied/) });
    const tested = await call('POST', '/api/v1/connections/test', { key, body: connBody('postgresql') });
    expect(tested.status).toBe(200);
    expect(tested.body.ping).toBe('ok');
    const testedDown = await call('POST', '/api/v1/connections/test', { key, body: connBody('postgresql', { port: 1 }) });
    expect(testedDown.status).toBe(503);
    expect(testedDown.body).toMatchObject({ ping: 'failed', error: expect.stringMatching(/ECONNREFUSED/) });
    const updated = await call('PUT', `/api/v1/connections/${created.body.id}`, { key, body: connBody('postgresql', { name: 'renamed', password: undefined }) });
    expect(updated.body.name).toBe('renamed');
    expect((await call('POST', `/api/v1/connections/${created.body.id}/ping`, { key })).body.ping).toBe('ok');
    expect((await call('DELETE', `/api/v1/connections/${created.body.id}`, { key })).status).toBe(204);
    expect((await call('GET', `/api/v1/connections/${created.body.id}`, { key })).status).toBe(404);
    const bad = await call('POST', '/api/v1/connections', { key, body: connBody('mysql', { type: 'oracle' }) });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: expect.stringMatching(/postgresql, mysql or s3/) });
  });

  it('accepts the seed example bodies as written, clones, deletes, refuses unknown connections and modes', async () => {
    const { key } = tenant;
    const cdc = {
      name: unique('mysql_to_postgresql'), source, target, mode: 'cdc', dataBundleSize: 500,
      reportingIntervals: { source: 3, target: 3 },
      tables: [{ name: 'users', operations: ['insert', 'update', 'delete'] }],
      createStructure: true,
    };
    const created = await call('POST', '/api/v1/stream-configs', { key, body: cdc });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^config_[0-9A-Z]{26}$/), ...cdc, created: expect.any(Number), limits: {} });
    expect(Math.abs(created.body.created - Date.now() / 1000)).toBeLessThan(60);

    const convert = {
      name: unique('mysql_to_postgresql_convert'), source, target, mode: 'convert', dataBundleSize: 1000,
      reportingIntervals: { source: 5, target: 5 },
      tables: [{ name: 'users' }, { name: 'orders', query: "SELECT * FROM orders WHERE order_date >= '2024-01-01'" }],
      createStructure: true, truncateTarget: true,
    };
    const converted = await call('POST', '/api/v1/stream-configs', { key, body: convert });
    expect(converted.status).toBe(201);
    expect(converted.body).toEqual({ id: expect.stringMatching(/^config_/), ...convert, created: expect.any(Number), limits: {} });

    // The config IS the Sluice stream with the same ulid.
    const native = await call('GET', `/v1/streams/stm_${created.body.id.slice(7)}`, { key });
    expect(native.status).toBe(200);
    expect(native.body.definition.mode).toBe('continuous');
    expect(native.body.definition.nodes.map((n: { type: string }) => n.type)).toEqual(['table-source', 'table-sink']);

    const got = await call('GET', `/api/v1/stream-configs/${created.body.id}`, { key });
    expect(got.body).toEqual(created.body);
    const list = await call('GET', '/api/v1/stream-configs', { key });
    expect(list.body.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining([created.body.id, converted.body.id]));

    const clone = await call('PUT', `/api/v1/stream-configs/${created.body.id}/clone`, { key });
    expect(clone.status).toBe(200);
    expect(clone.body.id).toMatch(/^config_/);
    expect(clone.body.id).not.toBe(created.body.id);
    const { id: _a, name: nameA, created: _c, ...settingsA } = created.body;
    const { id: _b, name: nameB, created: _d, ...settingsB } = clone.body;
    expect(settingsB).toEqual(settingsA);
    expect(nameB).toBe(`${nameA}_clone`);

    expect((await call('DELETE', `/api/v1/stream-configs/${clone.body.id}`, { key })).status).toBe(204);
    expect((await call('GET', `/api/v1/stream-configs/${clone.body.id}`, { key })).status).toBe(404);
    expect((await call('GET', '/api/v1/stream-configs/config_nope', { key })).status).toBe(404);

    const unknownConn = await call('POST', '/api/v1/stream-configs', { key, body: { ...cdc, name: unique('x'), source: 'conn_2sZyDMeIbdaXnN9OL7vYzzAiZU5' } });
    expect(unknownConn.status).toBe(400);
    expect(unknownConn.body).toEqual({ error: 'source connection conn_2sZyDMeIbdaXnN9OL7vYzzAiZU5 does not exist' });
    const otherTenant = await newTenant();
    expect((await call('POST', '/api/v1/stream-configs', { key: otherTenant.key, body: { ...cdc, name: unique('x') } })).status).toBe(400);
    const badMode = await call('POST', '/api/v1/stream-configs', { key, body: { ...cdc, name: unique('x'), mode: 'mirror' } });
    expect(badMode.status).toBe(400);
    expect(badMode.body.error).toMatch(/mode must be convert, load or cdc/);
    expect((await call('POST', '/api/v1/stream-configs', { key, body: { ...cdc, name: unique('x'), tables: [] } })).status).toBe(400);
    // Config names are stream names: a 400 naming the rule, not a 500 from a later check.
    const slashName = await call('POST', '/api/v1/stream-configs', { key, body: { ...cdc, name: 'cdc/orders' } });
    expect(slashName.status).toBe(400);
    expect(slashName.body.error).toMatch(/name cannot contain/);
    // A clone of a name of the longest length is cut to keep its suffix within 128 characters.
    const longest = await call('POST', '/api/v1/stream-configs', { key, body: { ...cdc, name: unique('long').padEnd(128, 'x') } });
    expect(longest.status, longest.text).toBe(201);
    const longClone = await call('PUT', `/api/v1/stream-configs/${longest.body.id}/clone`, { key });
    expect(longClone.status, longClone.text).toBe(200);
    expect(longClone.body.name).toBe(`${longest.body.name.slice(0, 122)}_clone`);
    expect((await call('POST', '/api/v1/streams/config_01ARZ3NDEKTSV4RRFFQ69G5FAV/start', { key })).status).toBe(404);
    expect((await call('GET', '/api/v1/streams/stream_01ARZ3NDEKTSV4RRFFQ69G5FAV/stats', { key })).status).toBe(404);
    for (const action of ['pause', 'resume', 'stop']) {
      expect((await call('POST', `/api/v1/streams/stream_01ARZ3NDEKTSV4RRFFQ69G5FAV/${action}`, { key })).status, action).toBe(404);
      expect((await call('POST', `/api/v1/streams/not-a-stream/${action}`, { key })).status, action).toBe(404);
    }
  });

  it('converts PostgreSQL → MySQL (a table and a custom query) to FINISHED with matching checksums and counters; 409 while running', async () => {
    const { key } = tenant;
    const items = tableName('dbc_items');
    const orders = tableName('dbc_orders');
    await createPgItems(db.pg, items, 20_000);
    await db.pg.query(`CREATE TABLE ${db.pg.quote(orders)} (id integer PRIMARY KEY, order_date date, note text)`);
    await db.pg.query(`INSERT INTO ${db.pg.quote(orders)} SELECT i, date '2023-12-01' + i, 'n' || i FROM generate_series(1, 500) AS i`);
    const config = await call('POST', '/api/v1/stream-configs', {
      key,
      body: {
        name: unique('pg_to_mysql'), source, target, mode: 'load', dataBundleSize: 2500,
        tables: [{ name: items }, { name: orders, query: `SELECT * FROM ${orders} WHERE order_date >= '2024-01-01'` }],
        createStructure: true, truncateTarget: true,
      },
    });
    expect(config.status).toBe(201);
    const started = await call('POST', `/api/v1/streams/${config.body.id}/start`, { key });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ id: expect.stringMatching(/^stream_[0-9A-Z]{26}$/), status: 'RUNNING', started: expect.any(Number) });
    const again = await call('POST', `/api/v1/stream-configs/${config.body.id}/start`, { key });
    if (again.status !== 409) expect(again.body).toBe('a start while running must be refused');
    const stats = await waitFor(key, started.body.id, ended);
    expect(stats).toMatchObject({
      streamID: started.body.id, configID: config.body.id,
      source: { counter: 20_000 + 470, failedCounter: 0, status: 'FINISHED', reportingInterval: 3, duration: expect.stringMatching(/^PT/) },
      target: { counter: 20_000 + 470, status: 'FINISHED' },
    });
    expect(stats.nodes.map((n: { id: string; type: string }) => [n.id, n.type])).toEqual([['source', 'source'], ['target', 'target']]);
    expect(await tableChecksums(db.my, items, ITEM_COLUMNS)).toEqual(await tableChecksums(db.pg, items, ITEM_COLUMNS));
    const [n] = await db.my.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${db.my.quote(orders)}`);
    expect(Number(n.n)).toBe(470);

    const streams = await call('GET', '/api/v1/streams', { key });
    expect(streams.body).toEqual(expect.arrayContaining([expect.objectContaining({ id: started.body.id, configID: config.body.id, status: 'FINISHED' })]));

    // A second start copies again from the beginning (truncate, then the whole table).
    await db.pg.query(`DELETE FROM ${db.pg.quote(items)} WHERE id > 19000`);
    const second = await call('POST', `/api/v1/stream-configs/${config.body.id}/start`, { key });
    expect(second.status).toBe(200);
    const secondStats = await waitFor(key, second.body.id, ended);
    expect(secondStats.source).toMatchObject({ counter: 19_000 + 470, status: 'FINISHED' });
    expect(await tableChecksums(db.my, items, ITEM_COLUMNS)).toEqual(await tableChecksums(db.pg, items, ITEM_COLUMNS));
  });

  it('pauses and resumes mid-run, survives a fault between the target write and the checkpoint, and copies MySQL → PostgreSQL exactly', async () => {
    const { key } = tenant;
    const items = tableName('dbc_back');
    await createPgItems(db.pg, items, 6000);
    // Stage the table on MySQL with a direct copy run first.
    const stage = await call('POST', '/api/v1/stream-configs', {
      key, body: { name: unique('stage'), source, target, mode: 'convert', dataBundleSize: 3000, tables: [{ name: items }] },
    });
    const staged = await call('POST', `/api/v1/streams/${stage.body.id}/start`, { key });
    expect((await waitFor(key, staged.body.id, ended)).source.status).toBe('FINISHED');

    const config = await call('POST', '/api/v1/stream-configs', {
      key,
      body: { name: unique('mysql_to_pg'), source: target, target: source, mode: 'convert', dataBundleSize: 500, tables: [{ name: items }], createStructure: true, truncateTarget: true },
    });
    // Test hooks through the native face: slow bundles and one fault after bundle 3's write, before its checkpoint.
    const streamId = `stm_${config.body.id.slice(7)}`;
    const patched = await call('PATCH', `/v1/streams/${streamId}`, {
      key, body: { description: 'copy back [test:bundle-delay-ms=150] [test:fault-before-commit=3]' }, headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(200);
    // The target table is the same name in PostgreSQL: move the original aside so the run creates it anew.
    await db.pg.query(`ALTER TABLE ${db.pg.quote(items)} RENAME TO ${db.pg.quote(`${items}_orig`)}`);

    const started = await call('POST', `/api/v1/streams/${config.body.id}/start`, { key });
    await waitFor(key, started.body.id, (s) => s.source.counter >= 1500);
    const paused = await call('POST', `/api/v1/streams/${started.body.id}/pause`, { key });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id: started.body.id, status: 'PAUSED', paused: expect.any(Number) });
    const atPause = (await call('GET', `/api/v1/streams/${started.body.id}/stats`, { key })).body;
    expect(atPause.error).toBeUndefined();
    expect(atPause.source.status).toBe('PAUSED');
    await sleep(600);
    const stillPaused = (await call('GET', `/api/v1/streams/${started.body.id}/stats`, { key })).body;
    expect(stillPaused.source.counter).toBe(atPause.source.counter);
    const again = await call('POST', `/api/v1/streams/${started.body.id}/pause`, { key });
    expect(again.status).toBe(409);
    // Named as this face names it: the stream, not the core's run.
    expect(again.body.error).toMatch(new RegExp(`^stream ${started.body.id} is paused; `));
    const resumed = await call('POST', `/api/v1/streams/${started.body.id}/resume`, { key });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ status: 'RUNNING', resumed: expect.any(Number) });
    const final = await waitFor(key, started.body.id, ended);
    expect(final.source).toMatchObject({ counter: 6000, status: 'FINISHED' });
    expect(final.target.counter).toBe(6000);
    expect(await tableChecksums(db.pg, items, ITEM_COLUMNS)).toEqual(await tableChecksums(db.pg, `${items}_orig`, ITEM_COLUMNS));
    const late = await call('POST', `/api/v1/streams/${started.body.id}/resume`, { key });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatch(new RegExp(`^stream ${started.body.id} is finished; `));
    expect(late.body.error).not.toContain('run_');
  });

  it('ends runs with EVENT_LIMIT_REACHED and TIME_LIMIT_REACHED from limits, and fails with the database message for a missing table', async () => {
    const { key } = tenant;
    const items = tableName('dbc_limit');
    await createPgItems(db.pg, items, 3000);
    const limited = await call('POST', '/api/v1/stream-configs', {
      key, body: { name: unique('limited'), source, target, mode: 'convert', dataBundleSize: 200, limits: { numberOfEvents: 1000 }, tables: [{ name: items }] },
    });
    expect(limited.body.limits).toEqual({ numberOfEvents: 1000 });
    const run = await call('POST', `/api/v1/streams/${limited.body.id}/start`, { key });
    const stats = await waitFor(key, run.body.id, ended);
    expect(stats.source).toMatchObject({ status: 'EVENT_LIMIT_REACHED', counter: 1000 });

    const timed = await call('POST', '/api/v1/stream-configs', {
      key, body: { name: unique('timed'), source, target, mode: 'convert', dataBundleSize: 100, limits: { elapsedTime: 1 }, tables: [{ name: items }] },
    });
    await call('PATCH', `/v1/streams/stm_${timed.body.id.slice(7)}`, {
      key, body: { description: 'slow [test:bundle-delay-ms=300]' }, headers: { 'content-type': 'application/merge-patch+json' },
    });
    const timedRun = await call('POST', `/api/v1/streams/${timed.body.id}/start`, { key });
    const timedStats = await waitFor(key, timedRun.body.id, ended);
    expect(timedStats.source.status).toBe('TIME_LIMIT_REACHED');
    expect(timedStats.source.counter).toBeGreaterThan(0);
    expect(timedStats.source.counter).toBeLessThan(3000);

    const missing = await call('POST', '/api/v1/stream-configs', {
      key, body: { name: unique('missing'), source, target, mode: 'convert', tables: [{ name: 'no_such_table' }] },
    });
    expect(missing.status).toBe(201);
    const failed = await call('POST', `/api/v1/streams/${missing.body.id}/start`, { key });
    const failedStats = await waitFor(key, failed.body.id, ended);
    expect(failedStats.source.status).toBe('FAILED');
    expect(failedStats.error).toMatch(/relation "no_such_table" does not exist/);
  });

  it('replicates changes with a cdc stream; after a stop, changes made meanwhile arrive on the next start, none twice', async () => {
    const { key } = tenant;
    const table = tableName('dbc_cdc');
    await db.pg.query(`CREATE TABLE ${db.pg.quote(table)} (id integer PRIMARY KEY, name text, n integer)`);
    await db.my.query(`CREATE TABLE ${db.my.quote(table)} (id INT PRIMARY KEY, name TEXT, n INT)`);
    const config = await call('POST', '/api/v1/stream-configs', {
      key, body: { name: unique('cdc'), source, target, mode: 'cdc', tables: [{ name: table, operations: ['insert', 'update', 'delete'] }] },
    });
    const rows = () => db.my.query(`SELECT id, name, n FROM ${db.my.quote(table)} ORDER BY id`);
    const until = (expected: unknown) => expect.poll(rows, { timeout: 60_000, interval: 250 }).toEqual(expected);
    const first = await call('POST', `/api/v1/streams/${config.body.id}/start`, { key });
    expect(first.status).toBe(200);
    // The slot exists once the first bundle ran.
    const slotDeadline = Date.now() + 30_000;
    while ((await db.pg.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE ?`, [`sluice_${config.body.id.slice(7).toLowerCase()}%`])).length === 0) {
      if (Date.now() > slotDeadline) throw new Error('no replication slot');
      await sleep(200);
    }
    await db.pg.query(`INSERT INTO ${db.pg.quote(table)} VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)`);
    await db.pg.query(`UPDATE ${db.pg.quote(table)} SET n = 10 WHERE id = 1`);
    await db.pg.query(`DELETE FROM ${db.pg.quote(table)} WHERE id = 2`);
    await until([{ id: 1, name: 'a', n: 10 }, { id: 3, name: 'c', n: 3 }]);
    const stopped = await call('POST', `/api/v1/streams/${first.body.id}/stop`, { key });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ status: 'STOPPED', stopped: expect.any(Number) });
    const counted = (await call('GET', `/api/v1/streams/${first.body.id}/stats`, { key })).body;
    expect(counted.source.counter).toBe(5);

    await db.pg.query(`INSERT INTO ${db.pg.quote(table)} VALUES (4, 'd', 4)`);
    await db.pg.query(`UPDATE ${db.pg.quote(table)} SET name = 'C' WHERE id = 3`);
    await sleep(300);
    expect(await rows()).toEqual([{ id: 1, name: 'a', n: 10 }, { id: 3, name: 'c', n: 3 }]);
    const second = await call('POST', `/api/v1/streams/${config.body.id}/start`, { key });
    expect(second.status).toBe(200);
    await until([{ id: 1, name: 'a', n: 10 }, { id: 3, name: 'C', n: 3 }, { id: 4, name: 'd', n: 4 }]);
    const secondStats = (await call('GET', `/api/v1/streams/${second.body.id}/stats`, { key })).body;
    expect(secondStats.source.counter).toBe(2);
    expect((await call('POST', `/api/v1/streams/${second.body.id}/stop`, { key })).status).toBe(200);
    // Deleting the configuration drops its replication slot, in the purge that follows the delete.
    expect((await call('DELETE', `/api/v1/stream-configs/${config.body.id}`, { key })).status).toBe(204);
    await expect
      .poll(() => db.pg.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE ?`, [`sluice_${config.body.id.slice(7).toLowerCase()}%`]), { timeout: 30_000, interval: 250 })
      .toEqual([]);
  });

  it('replicates MySQL → PostgreSQL with a cdc stream through the binlog; a restart continues without loss or repeats', async () => {
    const { key } = tenant;
    const table = tableName('dbc_bl');
    await db.my.query(`CREATE TABLE ${db.my.quote(table)} (id INT PRIMARY KEY, name VARCHAR(50), n INT)`);
    await db.pg.query(`CREATE TABLE ${db.pg.quote(table)} (id integer PRIMARY KEY, name varchar(50), n integer)`);
    const config = await call('POST', '/api/v1/stream-configs', {
      key, body: { name: unique('bl'), source: target, target: source, mode: 'cdc', tables: [{ name: table, operations: ['insert', 'update'] }] },
    });
    const rows = () => db.pg.query(`SELECT id, name, n FROM ${db.pg.quote(table)} ORDER BY id`);
    const until = (expected: unknown) => expect.poll(rows, { timeout: 60_000, interval: 250 }).toEqual(expected);
    const first = await call('POST', `/api/v1/streams/${config.body.id}/start`, { key });
    expect(first.status).toBe(200);
    // Wait until the stream anchored its binlog position (its first read ran): the anchor item in DynamoDB.
    const env = inject('runtimeEnv');
    const dynamo = new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, region: env.AWS_REGION, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
    const anchorKey = { PK: { S: `STM#stm_${config.body.id.slice(7)}` }, SK: { S: 'CDC#source' } };
    const anchorDeadline = Date.now() + 30_000;
    while (!(await dynamo.send(new GetItemCommand({ TableName: env.TABLE_NAME, Key: anchorKey, ConsistentRead: true }))).Item) {
      if (Date.now() > anchorDeadline) throw new Error('the cdc stream never anchored its binlog position');
      await sleep(200);
    }
    dynamo.destroy();
    await db.my.query(`INSERT INTO ${db.my.quote(table)} VALUES (1, 'a', 1), (2, 'b', 2)`);
    await db.my.query(`UPDATE ${db.my.quote(table)} SET n = 20 WHERE id = 2`);
    await db.my.query(`DELETE FROM ${db.my.quote(table)} WHERE id = 1`); // deletes are filtered out by operations
    await until([{ id: 1, name: 'a', n: 1 }, { id: 2, name: 'b', n: 20 }]);
    expect((await call('POST', `/api/v1/streams/${first.body.id}/stop`, { key })).status).toBe(200);
    await db.my.query(`INSERT INTO ${db.my.quote(table)} VALUES (3, 'c', 3)`);
    const second = await call('POST', `/api/v1/stream-configs/${config.body.id}/start`, { key });
    expect(second.status).toBe(200);
    await until([{ id: 1, name: 'a', n: 1 }, { id: 2, name: 'b', n: 20 }, { id: 3, name: 'c', n: 3 }]);
    const stats = (await call('GET', `/api/v1/streams/${second.body.id}/stats`, { key })).body;
    expect(stats.source.counter).toBe(1);
    expect((await call('POST', `/api/v1/streams/${second.body.id}/stop`, { key })).status).toBe(200);
  });

  it('never returns a password in any response of this file', () => {
    expect(seen.length).toBeGreaterThan(30);
    for (const password of [dbs().postgresql.password, dbs().mysql.password, 'wrong-Passw0rd-x']) {
      for (const res of seen) expect(res.text).not.toContain(password);
    }
  });
});
