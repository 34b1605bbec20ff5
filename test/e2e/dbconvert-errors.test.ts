import { beforeAll, describe, expect, inject, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';
import { connectionItem, dbconvertConnectionBody as connBody, storedPassword } from '../support/connections.ts';
import { createStream, startRun, usageDefinition, waitForRun } from '../support/runs.ts';
import { tableName, testDatabases } from '../support/sql-fixtures.ts';

/**
 * The DBConvert face's refusals through HTTP (connections PUT/DELETE, config
 * delete while running, runs it did not start), each followed by a second
 * read of what is stored: the API, DynamoDB and Secrets Manager.
 */
const dbs = () => inject('databases');
const UNKNOWN_CONN = 'conn_01ARZ3NDEKTSV4RRFFQ69G5FAV';

describe('DBConvert face /api/v1: refusals and what they leave stored', () => {
  const db = testDatabases();
  let tenant: Awaited<ReturnType<typeof newTenant>>;
  let other: Awaited<ReturnType<typeof newTenant>>;
  /** A MySQL target shared by the configurations of this file. */
  let target: string;
  beforeAll(async () => {
    [tenant, other] = await Promise.all([newTenant(), newTenant()]);
    target = (await api('POST', '/api/v1/connections', { key: tenant.key, body: connBody('mysql') })).body.id;
  });
  const newConnection = async () => {
    const created = await api('POST', '/api/v1/connections', { key: tenant.key, body: connBody('postgresql') });
    expect(created.status, created.text).toBe(201);
    return created.body as { id: string; name: string };
  };
  const cdcConfig = (source: string, table = 'users', to = target) => ({ name: unique('cfg'), source, target: to, mode: 'cdc', tables: [{ name: table }] });

  it('PUT /connections/{id}: 400 {"error"} for an invalid body and 404 for an unknown or foreign id, each leaving the connection and its password as they were', async () => {
    const { key } = tenant;
    const conn = await newConnection();
    const before = (await api('GET', `/api/v1/connections/${conn.id}`, { key })).body;
    expect(await storedPassword(tenant.solution.id, conn.id)).toBe(dbs().postgresql.password);

    // Every refused body carries a new password: none of them may reach the secret.
    const password = 'refused-Passw0rd-1';
    const invalid: [unknown, RegExp][] = [
      [connBody('postgresql', { name: 'x', password, port: 70_000 }), /port/],
      [connBody('postgresql', { name: 'x', password, type: 'oracle' }), /type must be postgresql, mysql or s3/],
      [connBody('postgresql', { name: 'x', password, host: '' }), /host is required for a postgresql connection$/],
      [connBody('postgresql', { name: '  ', password }), /name is required/],
      [{ password }, /name/],
    ];
    for (const [body, message] of invalid) {
      const refused = await api('PUT', `/api/v1/connections/${conn.id}`, { key, body });
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body).toEqual({ error: expect.stringMatching(message) });
    }
    const notJson = await api('PUT', `/api/v1/connections/${conn.id}`, { key, raw: '{"name": ', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toEqual({ error: expect.any(String) });

    const unknown = await api('PUT', `/api/v1/connections/${UNKNOWN_CONN}`, { key, body: connBody('postgresql', { password }) });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: `connection ${UNKNOWN_CONN} was not found` });
    expect(await storedPassword(tenant.solution.id, UNKNOWN_CONN)).toBeUndefined();
    const foreign = await api('PUT', `/api/v1/connections/${conn.id}`, { key: other.key, body: connBody('postgresql', { name: 'stolen', password }) });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ error: `connection ${conn.id} was not found` });
    expect(await storedPassword(other.solution.id, conn.id)).toBeUndefined();

    // Second reads: the settings, the secret, and a real login with it.
    expect((await api('GET', `/api/v1/connections/${conn.id}`, { key })).body).toEqual(before);
    expect(await storedPassword(tenant.solution.id, conn.id)).toBe(dbs().postgresql.password);
    expect((await api('POST', `/api/v1/connections/${conn.id}/ping`, { key })).body.ping).toBe('ok');

    // The reader does see an accepted change (so the checks above can fail).
    const accepted = await api('PUT', `/api/v1/connections/${conn.id}`, { key, body: connBody('postgresql', { name: 'renamed', password }) });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ ...before, name: 'renamed' });
    expect(await storedPassword(tenant.solution.id, conn.id)).toBe(password);
    expect((await api('POST', `/api/v1/connections/${conn.id}/ping`, { key })).status).toBe(503);
  });

  it('DELETE /connections/{id}: 404 for an unknown or foreign id; 409 naming the configuration that uses it, keeping it and its secret; 204 once the configuration is gone', async () => {
    const { key } = tenant;
    const conn = await newConnection();
    const unknown = await api('DELETE', `/api/v1/connections/${UNKNOWN_CONN}`, { key });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: `connection ${UNKNOWN_CONN} was not found` });
    expect((await api('DELETE', `/api/v1/connections/${conn.id}`, { key: other.key })).status).toBe(404);
    expect((await api('GET', `/api/v1/connections/${conn.id}`, { key })).status).toBe(200);

    const own = (await api('POST', '/api/v1/connections', { key, body: connBody('mysql') })).body.id;
    const config = await api('POST', '/api/v1/stream-configs', { key, body: cdcConfig(conn.id, 'users', own) });
    expect(config.status, config.text).toBe(201);
    const streamId = `stm_${config.body.id.slice(7)}`;
    // The configuration's write claimed both its connections.
    for (const id of [conn.id, own]) expect([...((await connectionItem(id))?.usedBy ?? [])]).toEqual([streamId]);

    for (const id of [conn.id, own]) {
      const refused = await api('DELETE', `/api/v1/connections/${id}`, { key });
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({ error: `connection ${id} is used by stream configuration ${config.body.id}; change or delete it first` });
    }
    const kept = await api('GET', `/api/v1/connections/${conn.id}`, { key });
    expect(kept.status).toBe(200);
    expect(kept.body.name).toBe(conn.name);
    expect(await storedPassword(tenant.solution.id, conn.id)).toBe(dbs().postgresql.password);
    expect((await api('GET', `/api/v1/stream-configs/${config.body.id}`, { key })).body.source).toBe(conn.id);

    expect((await api('DELETE', `/api/v1/stream-configs/${config.body.id}`, { key })).status).toBe(204);
    // Its claim is released; the claim counter stays (a delete that read it before still notices).
    const released = await connectionItem(conn.id);
    expect(released?.usedBy?.has(streamId) ?? false).toBe(false);
    expect(released?.claims).toBe(1);
    const deleted = await api('DELETE', `/api/v1/connections/${conn.id}`, { key });
    expect(deleted.status, deleted.text).toBe(204);
    expect((await api('GET', `/api/v1/connections/${conn.id}`, { key })).status).toBe(404);
    expect(await connectionItem(conn.id)).toBeUndefined();
    expect(await storedPassword(tenant.solution.id, conn.id)).toBeUndefined();
    expect((await api('DELETE', `/api/v1/connections/${conn.id}`, { key })).status).toBe(404);
  });

  it('PUT /connections/{id}: 409 naming the configuration for a type change, the connection, its claim and password as they were; a rename is fine, the type change once the configuration is gone', async () => {
    const { key } = tenant;
    const conn = await newConnection();
    const config = await api('POST', '/api/v1/stream-configs', { key, body: cdcConfig(conn.id) });
    expect(config.status, config.text).toBe(201);
    const before = (await api('GET', `/api/v1/connections/${conn.id}`, { key })).body;
    const itemBefore = await connectionItem(conn.id);

    const password = 'refused-Passw0rd-2';
    for (const [body, type] of [
      [connBody('mysql', { password }), 'mysql'],
      [connBody('postgresql', { type: 'S3', database: 'a-bucket', password }), 's3'],
    ] as const) {
      const refused = await api('PUT', `/api/v1/connections/${conn.id}`, { key, body });
      expect(refused.status, refused.text).toBe(409);
      expect(refused.body).toEqual({ error: `connection ${conn.id} is used by stream configuration ${config.body.id}; its type cannot change from postgresql to ${type} while it uses it` });
    }
    // Second reads: the API, the item (type, revision, the configuration's claim) and the secret.
    expect((await api('GET', `/api/v1/connections/${conn.id}`, { key })).body).toEqual(before);
    expect(await connectionItem(conn.id)).toEqual(itemBefore);
    expect(itemBefore).toMatchObject({ connectionType: 'postgresql', revision: 1, claims: 1 });
    expect(await storedPassword(tenant.solution.id, conn.id)).toBe(dbs().postgresql.password);
    expect((await api('GET', `/api/v1/stream-configs/${config.body.id}`, { key })).body.source).toBe(conn.id);

    const renamed = await api('PUT', `/api/v1/connections/${conn.id}`, { key, body: connBody('postgresql', { name: 'renamed' }) });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toEqual({ ...before, name: 'renamed' });

    expect((await api('DELETE', `/api/v1/stream-configs/${config.body.id}`, { key })).status).toBe(204);
    const retyped = await api('PUT', `/api/v1/connections/${conn.id}`, { key, body: connBody('mysql', { name: 'now-mysql' }) });
    expect(retyped.status, retyped.text).toBe(200);
    expect((await api('GET', `/api/v1/connections/${conn.id}`, { key })).body).toMatchObject({ name: 'now-mysql', type: 'mysql', port: dbs().mysql.port });
  });

  it("a type change's write is refused when a configuration claimed the connection after the PUT read it; a rename's is not", async () => {
    // The interleaving HTTP cannot force: read and check (as updateConnection does), a configuration is written, then the conditional write.
    Object.assign(process.env, inject('runtimeEnv'));
    const { getConnectionRecord, replaceConnection } = await import('#shared/store/connections.ts');
    const conn = await newConnection();
    const read = (await getConnectionRecord(conn.id))!;
    expect((await api('POST', '/api/v1/stream-configs', { key: tenant.key, body: cdcConfig(conn.id) })).status).toBe(201);
    const retyped = { ...read, type: 'mysql' as const, revision: read.revision + 1 };
    expect(await replaceConnection(retyped, read.revision, { claims: read.claims })).toBe(false);
    expect((await api('GET', `/api/v1/connections/${conn.id}`, { key: tenant.key })).body.type).toBe('postgresql');
    // The claim is what refused it: the same write unconditioned on claims (what a rename does) goes through.
    expect(await replaceConnection({ ...read, name: 'renamed', revision: read.revision + 1 }, read.revision)).toBe(true);
    expect((await api('GET', `/api/v1/connections/${conn.id}`, { key: tenant.key })).body).toMatchObject({ name: 'renamed', type: 'postgresql' });
  });

  it('POST /stream-configs naming an s3 connection or an unknown one: 400 {"error"} in the face\'s words, the first bad side named; nothing written or claimed', async () => {
    const { key } = tenant;
    const source = await newConnection();
    const s3 = (await api('POST', '/v1/connections', { key, body: { name: unique('s3'), type: 's3', database: 'dbconvert-bucket' } })).body.id as string;
    const name = unique('cfg');
    const refusals: [Record<string, unknown>, string][] = [
      [{ source: s3 }, `source connection ${s3} is an s3 connection; stream configurations need a database`],
      [{ source: source.id, target: s3 }, `target connection ${s3} is an s3 connection; stream configurations need a database`],
      [{ source: UNKNOWN_CONN, target: s3 }, `source connection ${UNKNOWN_CONN} does not exist`],
      [{ source: s3, target: UNKNOWN_CONN }, `source connection ${s3} is an s3 connection; stream configurations need a database`],
    ];
    for (const [sides, error] of refusals) {
      const refused = await api('POST', '/api/v1/stream-configs', { key, body: { ...cdcConfig(source.id), name, ...sides } });
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body).toEqual({ error });
    }
    expect((await api('GET', '/api/v1/stream-configs', { key })).body.some((c: { name: string }) => c.name === name)).toBe(false);
    expect(await connectionItem(s3)).not.toHaveProperty('claims');
    expect(await connectionItem(source.id)).not.toHaveProperty('claims');
    // The same configuration on databases is written (so the refusals above can be told from a broken create).
    const written = await api('POST', '/api/v1/stream-configs', { key, body: { ...cdcConfig(source.id), name } });
    expect(written.status, written.text).toBe(201);
    expect((await connectionItem(source.id))?.claims).toBe(1);
  });

  it('a configuration and a delete of its connection racing: exactly one wins, never a configuration pointing at nothing', async () => {
    const { key } = tenant;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const conn = await newConnection();
        const body = cdcConfig(conn.id);
        const [created, deleted] = await Promise.all([
          api('POST', '/api/v1/stream-configs', { key, body }),
          api('DELETE', `/api/v1/connections/${conn.id}`, { key }),
        ]);
        return { conn, body, created, deleted };
      }),
    );
    const configs = (await api('GET', '/api/v1/stream-configs', { key })).body as { id: string; name: string; source: string }[];
    for (const { conn, body, created, deleted } of outcomes) {
      expect([created.status, deleted.status], `${created.text} / ${deleted.text}`).toSatisfy(
        ([c, d]: number[]) => (c === 201 && d === 409) || (c === 400 && d === 204),
      );
      const stored = (await api('GET', `/api/v1/connections/${conn.id}`, { key })).status;
      if (created.status === 201) {
        expect(stored).toBe(200);
        expect(configs.find((c) => c.id === created.body.id)?.source).toBe(conn.id);
      } else {
        expect(created.body.error).toMatch(new RegExp(`connection ${conn.id} does not exist`));
        expect(stored).toBe(404);
        expect(configs.some((c) => c.name === body.name)).toBe(false);
      }
    }
  });

  it("the delete's write is refused when a configuration claimed the connection after the delete read it", async () => {
    // The interleaving HTTP cannot force: read (as deleteConnection does), a configuration is written, then the conditional delete.
    Object.assign(process.env, inject('runtimeEnv'));
    const { getConnectionRecord, removeConnection } = await import('#shared/store/connections.ts');
    const conn = await newConnection();
    const read = (await getConnectionRecord(conn.id))!;
    expect((await api('POST', '/api/v1/stream-configs', { key: tenant.key, body: cdcConfig(conn.id) })).status).toBe(201);
    expect(await removeConnection(conn.id, read.revision, read.claims)).toBe(false);
    expect((await api('GET', `/api/v1/connections/${conn.id}`, { key: tenant.key })).status).toBe(200);
    const now = (await getConnectionRecord(conn.id))!;
    expect(now.claims).toBe((read.claims ?? 0) + 1);
  });

  it('DELETE /stream-configs/{id}: 409 while a stream started from it runs, the configuration kept; after a stop 204 and gone', async () => {
    const { key } = tenant;
    const table = tableName('dbc_del');
    await db.pg.query(`CREATE TABLE ${db.pg.quote(table)} (id integer PRIMARY KEY, name text)`);
    const config = await api('POST', '/api/v1/stream-configs', { key, body: cdcConfig((await newConnection()).id, table) });
    expect(config.status, config.text).toBe(201);
    const started = await api('POST', `/api/v1/stream-configs/${config.body.id}/start`, { key });
    expect(started.status, started.text).toBe(200);

    const refused = await api('DELETE', `/api/v1/stream-configs/${config.body.id}`, { key });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: `stream configuration ${config.body.id} is running as ${started.body.id}; stop it first` });
    expect((await api('GET', `/api/v1/stream-configs/${config.body.id}`, { key })).body).toEqual(config.body);
    expect((await api('GET', `/api/v1/streams/${started.body.id}/stats`, { key })).body.source.status).toBe('RUNNING');
    expect((await api('GET', '/api/v1/streams', { key })).body).toContainEqual(expect.objectContaining({ id: started.body.id, status: 'RUNNING' }));

    const stopped = await api('POST', `/api/v1/streams/${started.body.id}/stop`, { key });
    expect(stopped.status).toBe(200);
    expect(stopped.body.status).toBe('STOPPED');
    expect((await api('DELETE', `/api/v1/stream-configs/${config.body.id}`, { key })).status).toBe(204);
    expect((await api('GET', `/api/v1/stream-configs/${config.body.id}`, { key })).status).toBe(404);
    expect((await api('GET', '/api/v1/stream-configs', { key })).body.map((c: { id: string }) => c.id)).not.toContain(config.body.id);
    expect((await api('GET', `/v1/streams/stm_${config.body.id.slice(7)}`, { key })).status).toBe(404);
    expect((await api('DELETE', `/api/v1/stream-configs/${config.body.id}`, { key })).status).toBe(404);
  });

  it('sees only streams started through DBConvert: a native run, also of a configuration, is 404 for stats/pause/resume/stop and not listed', async () => {
    const { key } = tenant;
    const native = await createStream(key, usageDefinition(unique('usage'), { mode: 'continuous' }));
    const nativeRun = await startRun(key, native.id);
    const table = tableName('dbc_native');
    await db.pg.query(`CREATE TABLE ${db.pg.quote(table)} (id integer PRIMARY KEY, name text)`);
    const config = await api('POST', '/api/v1/stream-configs', { key, body: cdcConfig((await newConnection()).id, table) });
    const configRun = await startRun(key, `stm_${config.body.id.slice(7)}`);

    for (const run of [nativeRun, configRun]) {
      const alias = `stream_${run.id.slice(4)}`;
      const stats = await api('GET', `/api/v1/streams/${alias}/stats`, { key });
      expect(stats.status).toBe(404);
      expect(stats.body).toEqual({ error: `stream ${alias} was not found` });
      for (const action of ['pause', 'resume', 'stop']) {
        const refused = await api('POST', `/api/v1/streams/${alias}/${action}`, { key });
        expect(refused.status, action).toBe(404);
        expect(refused.body).toEqual({ error: `stream ${alias} was not found` });
      }
      // None of them touched the run.
      expect((await api('GET', `/v1/runs/${run.id}`, { key })).body).toMatchObject({ status: 'running', desiredStatus: 'running' });
    }
    const listed = (await api('GET', '/api/v1/streams', { key })).body.map((s: { id: string }) => s.id);
    expect(listed).not.toContain(`stream_${nativeRun.id.slice(4)}`);
    expect(listed).not.toContain(`stream_${configRun.id.slice(4)}`);

    // A DBConvert-started run of the same configuration is seen, by its own solution only.
    for (const run of [nativeRun, configRun]) expect((await api('POST', `/v1/runs/${run.id}/stop`, { key })).status).toBe(200);
    await waitForRun(key, configRun.id, (r) => r.status === 'stopped');
    const started = await api('POST', `/api/v1/stream-configs/${config.body.id}/start`, { key });
    expect(started.status, started.text).toBe(200);
    expect((await api('GET', `/api/v1/streams/${started.body.id}/stats`, { key })).status).toBe(200);
    expect((await api('GET', `/api/v1/streams/${started.body.id}/stats`, { key: other.key })).status).toBe(404);
    expect((await api('POST', `/api/v1/streams/${started.body.id}/stop`, { key: other.key })).status).toBe(404);
    expect((await api('GET', '/api/v1/streams', { key })).body.map((s: { id: string }) => s.id)).toContain(started.body.id);
    expect((await api('POST', `/api/v1/streams/${started.body.id}/stop`, { key })).status).toBe(200);
    await waitForRun(key, `run_${started.body.id.slice(7)}`, (r) => r.status === 'stopped');
    // Its replication slot goes with it (dropped by the purge that follows the delete).
    const slots = () => db.pg.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE ?`, [`sluice_${config.body.id.slice(7).toLowerCase()}%`]);
    await expect.poll(slots, { timeout: 30_000, interval: 250 }).toHaveLength(1);
    expect((await api('DELETE', `/api/v1/stream-configs/${config.body.id}`, { key })).status).toBe(204);
    await expect.poll(slots, { timeout: 30_000, interval: 250 }).toEqual([]);
  });
});
