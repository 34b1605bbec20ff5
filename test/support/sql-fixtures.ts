import { createHash } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import type { DatabaseParams } from './databases.ts';
import { openSession, type SqlSession } from '#shared/engine/nodes/sql.ts';
import type { ConnectionParams } from '#shared/connections/drivers.ts';

/** Connection parameters of a test server (the unprivileged `sluice` account). */
export const paramsOf = (db: DatabaseParams): ConnectionParams => ({
  type: db.type, host: db.host, port: db.port, database: db.database, username: db.username, password: db.password,
});

export const sessionOf = (db: DatabaseParams) => openSession(paramsOf(db));

/** A session as the server's admin account (`postgres` / `root@127.0.0.1`): to create roles and users a test needs. */
export const adminSessionOf = (db: DatabaseParams) => openSession({ ...paramsOf(db), username: db.adminUsername, password: db.adminPassword });

/** Sessions to both test servers, opened before the calling suite's tests and closed after them. */
export function testDatabases(): { pg: SqlSession; my: SqlSession } {
  const sessions = {} as { pg: SqlSession; my: SqlSession };
  beforeAll(async () => {
    sessions.pg = await sessionOf(inject('databases').postgresql);
    sessions.my = await sessionOf(inject('databases').mysql);
  });
  afterAll(async () => {
    await sessions.pg?.close();
    await sessions.my?.close();
  });
  return sessions;
}

/** A throwaway table name. */
export const tableName = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;

/**
 * Creates `name` in PostgreSQL with `rows` rows of several types, NULLs and
 * unicode text, generated server-side.
 */
export async function createPgItems(s: SqlSession, name: string, rows: number): Promise<void> {
  const t = s.quote(name);
  await s.query(`CREATE TABLE ${t} (
    id bigint PRIMARY KEY,
    name text,
    tag varchar(32) NOT NULL,
    amount numeric(12,2),
    ratio double precision,
    active boolean,
    created timestamptz,
    day date,
    payload jsonb,
    small smallint,
    blob bytea
  )`);
  await s.query(`INSERT INTO ${t}
    SELECT i,
      CASE WHEN i % 7 = 0 THEN NULL ELSE 'Nämé ' || i || ' 名前 😀 ''quoted'' \\ back' END,
      'tag-' || (i % 100),
      CASE WHEN i % 11 = 0 THEN NULL ELSE round((i * 1.37)::numeric, 2) END,
      CASE WHEN i % 13 = 0 THEN NULL ELSE i / 3.0 END,
      CASE WHEN i % 5 = 0 THEN NULL ELSE i % 2 = 0 END,
      timestamptz '2024-01-01 00:00:00+00' + (i || ' seconds')::interval + (i % 1000 || ' microseconds')::interval,
      date '2020-01-01' + (i % 2000),
      CASE WHEN i % 17 = 0 THEN NULL ELSE jsonb_build_object('i', i, 'label', 'ü' || i, 'list', jsonb_build_array(i, i + 1)) END,
      (i % 30000)::smallint,
      CASE WHEN i % 19 = 0 THEN NULL ELSE decode(md5(i::text), 'hex') END
    FROM generate_series(1, ${rows}) AS i`);
}

function normalise(column: string, value: unknown): string {
  if (value === null || value === undefined) return '\u0000NULL';
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (column === 'active') return Number(value) ? '1' : '0';
  if (column === 'payload') return stableJson(typeof value === 'string' ? JSON.parse(value) : value);
  if (column === 'created') {
    const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))?/.exec(String(value));
    return m ? `${m[1]} ${m[2]}.${(m[3] ?? '').padEnd(6, '0')}` : String(value);
  }
  if (column === 'ratio') return String(Number(value));
  return String(value);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Row count and an md5 per column over the rows in primary-key order. */
export async function tableChecksums(s: SqlSession, name: string, columns: string[], key = 'id') {
  const rows = await s.query<Record<string, unknown>>(`SELECT ${columns.map((c) => s.quote(c)).join(', ')} FROM ${s.quoteTable(name)} ORDER BY ${s.quote(key)}`);
  const sums: Record<string, string> = {};
  for (const column of columns) {
    const hash = createHash('md5');
    for (const row of rows) hash.update(normalise(column, row[column])).update('\u0001');
    sums[column] = hash.digest('hex');
  }
  return { count: rows.length, sums };
}

export const ITEM_COLUMNS = ['id', 'name', 'tag', 'amount', 'ratio', 'active', 'created', 'day', 'payload', 'small', 'blob'];

/**
 * A login without replication rights, made with the admin account: on PostgreSQL a
 * role without REPLICATION that owns nothing (PUBLIC's CONNECT only), on MariaDB a
 * user with SELECT on the test database plus `grants` (e.g. `REPLICATION CLIENT ON *.*`).
 * `drop()` removes it.
 */
export async function restrictedAccount(db: DatabaseParams, grants: string[] = []) {
  const username = tableName('cdc_lim').toLowerCase();
  const password = `Lim-${Math.random().toString(36).slice(2)}-Pw9`;
  const admin = await adminSessionOf(db);
  try {
    if (db.type === 'postgresql') {
      await admin.query(`CREATE ROLE ${admin.quote(username)} LOGIN NOREPLICATION PASSWORD '${password}'`);
    } else {
      await admin.query(`CREATE USER '${username}'@'%' IDENTIFIED BY '${password}'`);
      for (const grant of [`SELECT ON ${admin.quote(db.database)}.*`, ...grants]) await admin.query(`GRANT ${grant} TO '${username}'@'%'`);
    }
  } finally {
    await admin.close();
  }
  const drop = async () => {
    const s = await adminSessionOf(db);
    try {
      await s.query(db.type === 'postgresql' ? `DROP ROLE IF EXISTS ${s.quote(username)}` : `DROP USER IF EXISTS '${username}'@'%'`);
    } finally {
      await s.close();
    }
  };
  return { username, password, params: { ...paramsOf(db), username, password }, drop };
}
