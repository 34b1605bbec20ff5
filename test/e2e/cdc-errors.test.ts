import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { slotName } from '#shared/engine/nodes/pg-cdc.ts';
import { newTenant, recordingApi, unique } from '../support/api.ts';
import { dbconvertConnectionBody } from '../support/connections.ts';
import { ended, waitForRun } from '../support/runs.ts';
import { restrictedAccount, tableName, testDatabases } from '../support/sql-fixtures.ts';

/**
 * CDC set-up errors provoked for real on the shared test servers, without
 * touching their configuration: accounts made for this file (a PostgreSQL
 * role without REPLICATION that owns nothing, a MariaDB user with SELECT
 * only), tables that are not there or have no primary key. Each run is
 * started through HTTP (a native continuous stream, or a DBConvert cdc
 * configuration) and must fail at once, caught rather than retried
 * (`Sluice.Configuration`), with a message saying what to fix and no
 * password; a refused connection, by contrast, keeps being retried.
 */
const dbs = () => inject('databases');
const { call, seen } = recordingApi();
/** A configuration error ends the run within this; a retried one would take about half a minute (6 attempts, backoff from 1 s). */
const PROMPT_MS = 15_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('CDC set-up errors through HTTP: the run fails at once with what to fix', () => {
  const db = testDatabases();
  let key: string;
  let pgRole: Awaited<ReturnType<typeof restrictedAccount>>;
  let myUser: Awaited<ReturnType<typeof restrictedAccount>>;
  beforeAll(async () => {
    key = (await newTenant()).key;
    [pgRole, myUser] = await Promise.all([restrictedAccount(dbs().postgresql), restrictedAccount(dbs().mysql)]);
  });
  afterAll(async () => {
    await Promise.all([pgRole?.drop(), myUser?.drop()]);
  });

  const nativeConnection = async (which: 'postgresql' | 'mysql', overrides: Record<string, unknown> = {}) => {
    const d = dbs()[which];
    const body = { name: unique(which), type: which, host: d.host, port: d.port, database: d.database, username: d.username, password: d.password, ...overrides };
    const created = await call('POST', '/v1/connections', { key, body });
    expect(created.status, created.text).toBe(201);
    return created.body.id as string;
  };
  /** A native continuous stream: table-source `src` (CDC) → table-sink `dst`. */
  const cdcStream = async (source: string, target: string, tables: unknown[]) => {
    const definition = {
      mode: 'continuous',
      nodes: [
        { id: 'src', type: 'table-source', config: { connectionId: source, tables } },
        { id: 'dst', type: 'table-sink', config: { connectionId: target } },
      ],
      edges: [{ from: 'src', to: 'dst' }],
    };
    const created = await call('POST', '/v1/streams', { key, body: { name: unique('cdc'), definition } });
    expect(created.status, created.text).toBe(201);
    return created.body.id as string;
  };
  const start = async (streamId: string) => {
    const started = await call('POST', `/v1/streams/${streamId}/start`, { key });
    expect(started.status, started.text).toBe(201);
    return started.body.id as string;
  };
  /** The run as /v1 shows it once ended: failed, caught at once (not after retries), the message as given. */
  const expectFailedAtOnce = async (runId: string, message: string | RegExp) => {
    const run = await waitForRun(key, runId, ended, 60_000);
    expect(run.status).toBe('failed');
    expect(run.error).toEqual({ code: 'Sluice.Configuration', message: expect.stringMatching(message), at: expect.any(String) });
    expect(Date.parse(run.endedAt) - Date.parse(run.startedAt)).toBeLessThan(PROMPT_MS);
    return run;
  };
  /** Replication slots of the stream's source node (`src` here; a DBConvert configuration's is `source`). */
  const slotOf = async (streamId: string, node = 'src') => (await db.pg.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = ?', [slotName(streamId, node)])).length;
  const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

  it('native: a PostgreSQL role without REPLICATION (owning nothing) fails naming the ALTER ROLE to run; no slot is left', async () => {
    const table = tableName('cdc_norepl');
    await db.pg.query(`CREATE TABLE ${db.pg.quote(table)} (id integer PRIMARY KEY, name text)`);
    const source = await nativeConnection('postgresql', { username: pgRole.username, password: pgRole.password });
    const stream = await cdcStream(source, await nativeConnection('mysql'), [{ name: table }]);
    const run = await expectFailedAtOnce(
      await start(stream),
      exactly(
        `role "${pgRole.username}" lacks the REPLICATION attribute that CDC from PostgreSQL needs for its replication slot: ` +
          `ALTER ROLE "${pgRole.username}" WITH REPLICATION (on RDS/Aurora: GRANT rds_replication TO "${pgRole.username}")`,
      ),
    );
    expect(run.checkpoint.bundle).toBe(0);
    expect(await slotOf(stream)).toBe(0);
    // The stream is free again: a second start is accepted (and fails the same way).
    await expectFailedAtOnce(await start(stream), /lacks the REPLICATION attribute/);
  });

  it('native: a PostgreSQL table that does not exist fails naming it, before a slot is made', async () => {
    const stream = await cdcStream(await nativeConnection('postgresql'), await nativeConnection('mysql'), [{ name: 'no_such_cdc_table' }]);
    await expectFailedAtOnce(await start(stream), exactly('table no_such_cdc_table does not exist in database sluice'));
    expect(await slotOf(stream)).toBe(0);
  });

  it('native: a wrong password fails the run at once, PostgreSQL and MariaDB alike, without the password', async () => {
    const wrong = 'not-the-password-7Qx';
    for (const which of ['postgresql', 'mysql'] as const) {
      const other = which === 'postgresql' ? 'mysql' : 'postgresql';
      const stream = await cdcStream(await nativeConnection(which, { password: wrong }), await nativeConnection(other), [{ name: 'anything' }]);
      const run = await expectFailedAtOnce(await start(stream), which === 'postgresql' ? /^the database server refused the connection: 28P01: password authentication failed for user "sluice"\. Check the connection's username, password and database/ : /^the database server refused the connection: ER_ACCESS_DENIED_ERROR: Access denied for user 'sluice'@.*\. Check the connection's username, password and database/);
      expect(JSON.stringify(run)).not.toContain(wrong);
      if (which === 'postgresql') expect(await slotOf(stream)).toBe(0);
    }
  });

  it('native: a refused connection is not a configuration error: the run keeps retrying until stopped', async () => {
    const stream = await cdcStream(await nativeConnection('postgresql', { port: 1 }), await nativeConnection('mysql'), [{ name: 'anything' }]);
    const runId = await start(stream);
    // Configuration errors above end within a second or two; this one is still being retried.
    await sleep(4000);
    const retrying = await call('GET', `/v1/runs/${runId}`, { key });
    expect(retrying.body.status, retrying.text).toBe('running');
    expect(retrying.body.error).toBeNull();
    expect((await call('POST', `/v1/runs/${runId}/stop`, { key })).status).toBe(200);
    const run = await waitForRun(key, runId, ended, 90_000);
    expect(run.status).toBe('stopped');
    expect(run.error).toBeNull();
  });

  describe('DBConvert cdc configurations (/api/v1)', () => {
    const connection = async (which: 'postgresql' | 'mysql', overrides: Record<string, unknown> = {}) => {
      const created = await call('POST', '/api/v1/connections', { key, body: dbconvertConnectionBody(which, overrides) });
      expect(created.status, created.text).toBe(201);
      return created.body.id as string;
    };
    /** Creates and starts a cdc configuration; answers the stats once the stream ended. */
    const startConfig = async (source: string, target: string, tables: unknown[]) => {
      const config = await call('POST', '/api/v1/stream-configs', { key, body: { name: unique('cdc'), source, target, mode: 'cdc', tables } });
      expect(config.status, config.text).toBe(201);
      const started = await call('POST', `/api/v1/stream-configs/${config.body.id}/start`, { key });
      expect(started.status, started.text).toBe(200);
      const id = started.body.id as string;
      await expectFailedAtOnce(`run_${id.slice(7)}`, /./);
      const stats = await call('GET', `/api/v1/streams/${id}/stats`, { key });
      expect(stats.status).toBe(200);
      return { id, configId: config.body.id as string, stats: stats.body };
    };
    /** The face's shape of a failed stream: every node FAILED, the message under `error`, in the stats and the list. */
    const expectFailedStats = async (started: Awaited<ReturnType<typeof startConfig>>, message: string | RegExp) => {
      expect(started.stats).toMatchObject({ streamID: started.id, configID: started.configId, source: { status: 'FAILED', counter: 0 }, target: { status: 'FAILED', counter: 0 } });
      expect(started.stats.error).toMatch(message);
      const listed = (await call('GET', '/api/v1/streams', { key })).body.find((s: { id: string }) => s.id === started.id);
      expect(listed).toEqual({ id: started.id, configID: started.configId, status: 'FAILED', started: expect.any(Number), ended: expect.any(Number), error: started.stats.error });
    };

    it('a MariaDB user without REPLICATION SLAVE / REPLICATION CLIENT fails naming the GRANT to make', async () => {
      const table = tableName('cdc_nogrant');
      await db.my.query(`CREATE TABLE ${db.my.quote(table)} (id INT PRIMARY KEY, name TEXT)`);
      const source = await connection('mysql', { username: myUser.username, password: myUser.password });
      const started = await startConfig(source, await connection('postgresql'), [{ name: table }]);
      await expectFailedStats(
        started,
        new RegExp(
          `^user ${myUser.username} lacks the privileges CDC from MySQL reads the binlog with: ` +
            `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON \\*\\.\\* TO '${myUser.username}' \\(the server said: Access denied; .*\\)$`,
        ),
      );
    });

    it('a MariaDB table that does not exist fails naming it', async () => {
      const started = await startConfig(await connection('mysql'), await connection('postgresql'), [{ name: 'no_such_cdc_table' }]);
      await expectFailedStats(started, exactly('table sluice.no_such_cdc_table does not exist (or user sluice has no privilege on it)'));
    });

    it('a PostgreSQL table without a primary key, deletes replicated, fails saying why; no slot is left', async () => {
      const table = tableName('cdc_nokey');
      await db.pg.query(`CREATE TABLE ${db.pg.quote(table)} (id integer, name text)`);
      const started = await startConfig(await connection('postgresql'), await connection('mysql'), [{ name: table }]);
      await expectFailedStats(started, exactly(`table ${table} has no primary key, which CDC needs to apply deletes: add one, or replicate only inserts and updates (operations)`));
      expect(await slotOf(`stm_${started.configId.slice(7)}`, 'source')).toBe(0);
    });
  });

  it('never returns a password in any response of this file', () => {
    expect(seen.length).toBeGreaterThan(20);
    for (const password of [dbs().postgresql.password, dbs().mysql.password, pgRole.password, myUser.password]) {
      for (const res of seen) expect(res.text).not.toContain(password);
    }
  });
});
