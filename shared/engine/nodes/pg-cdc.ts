import type { ConnectionParams } from '../../connections/drivers.ts';
import { RunConfigurationError } from '../errors.ts';
import type { DataRecord, SourceBatch, SourceOffset, SourceReader } from '../types.ts';
import { openSession, type SqlSession } from './sql.ts';
import { OP_FIELD, TABLE_FIELD, type TableSpec } from './table-source.ts';

/**
 * `table-source` in continuous (CDC) mode over PostgreSQL logical decoding.
 *
 * A logical replication slot with the built-in `test_decoding` plugin (in
 * every PostgreSQL package, no extension to install) is created on the first
 * read; it keeps every change committed after that moment. The protocol that
 * loses nothing and applies nothing twice:
 *
 * 1. read:  `pg_logical_slot_peek_changes` (peek: the slot does NOT move)
 *           returns whole transactions after the slot's confirmed position;
 *           those whose COMMIT LSN is <= the offset are skipped (already applied).
 * 2. the engine writes the records to the sink (idempotent upserts/deletes),
 * 3. the engine commits the new offset `{lsn: <last COMMIT LSN>}` with the bundle,
 * 4. the next read (this run's next bundle, or the next run's first) receives
 *    that committed offset and only then calls `pg_replication_slot_advance`
 *    to it, releasing the WAL.
 *
 * If the function dies after 2 and before 3, the slot has not moved and the
 * offset is the old one: the same transactions are read again and re-applied
 * as upserts (no change). If it dies after 3 and before 4, the skip in 1
 * keeps the already-applied transactions out. The slot is named after the
 * stream and node (`sluice_<stream ulid>_<node>`), so a stopped stream that
 * starts again continues where it stopped; deleting the stream should drop it
 * (`dropSlot`), otherwise PostgreSQL keeps the WAL for it.
 *
 * Set-up errors are the run's configuration, not something a retry cures, so
 * they fail it at once (`RunConfigurationError`) with what to fix: checked by
 * one catalog query on the session each invocation opens anyway, before the
 * slot is made or read, every table must exist (else its changes would just never
 * come) and, when deletes are replicated, have a primary key (else a delete
 * carries no key); a role without REPLICATION, `wal_level` below logical and
 * no free slot are told as such (`pgCdcError`).
 */
export interface PgCdcConfig {
  slot: string;
  tables: TableSpec[];
}

export interface PgCdcOffset extends SourceOffset {
  lsn: string;
}

export const slotName = (streamId: string, nodeId: string) =>
  `sluice_${streamId.replace(/^[a-z]+_/, '')}_${nodeId}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);

export function lsnValue(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

interface Change {
  table: string;
  op: 'insert' | 'update' | 'delete';
  row: DataRecord;
}

export function createPgCdcSource(params: ConnectionParams, config: PgCdcConfig): SourceReader & { dropSlot(): Promise<void>; ensureSlot(): Promise<void> } {
  let session: SqlSession | undefined;
  let slotReady = false;
  const connect = async () => (session ??= await openSession(params));
  const wanted = new Map<string, TableSpec>();
  for (const spec of config.tables) {
    wanted.set(spec.name, spec);
    if (!spec.name.includes('.')) wanted.set(`public.${spec.name}`, spec);
  }

  const ensureSlot = async () => {
    if (slotReady) return;
    const s = await connect();
    await checkTables(s, config.tables, params.database);
    const existing = await s.query('SELECT 1 AS x FROM pg_replication_slots WHERE slot_name = ?', [config.slot]);
    if (existing.length === 0) {
      try {
        await s.query("SELECT pg_create_logical_replication_slot(?, 'test_decoding')", [config.slot]);
      } catch (error) {
        if (!/already exists/.test((error as Error).message)) throw error;
      }
    }
    slotReady = true;
  };

  return {
    ensureSlot,
    async read(offset, max): Promise<SourceBatch> {
      try {
        return await readChanges(offset, max);
      } catch (error) {
        throw pgCdcError(error, params.username);
      }
    },
    async dropSlot() {
      const s = await connect();
      await s.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?', [config.slot]);
      slotReady = false;
    },
    async close() {
      await session?.close().catch(() => undefined);
      session = undefined;
    },
  };

  async function readChanges(offset: SourceOffset | undefined, max: number): Promise<SourceBatch> {
    const s = await connect();
    await ensureSlot();
    const committed = (offset as PgCdcOffset | undefined)?.lsn;
    if (committed) {
      // Step 4 of the protocol: the offset we are given is committed, so the slot may move up to it.
      await s.query(
        'SELECT pg_replication_slot_advance(slot_name, ?::pg_lsn) FROM pg_replication_slots WHERE slot_name = ? AND confirmed_flush_lsn < ?::pg_lsn',
        [committed, config.slot, committed],
      );
    }
    const floor = committed ? lsnValue(committed) : -1n;
    const records: DataRecord[] = [];
    let last = committed;
    let bytes = 0;
    let rows: { lsn: string; data: string }[] = [];
    // Transactions that touch none of our tables carry nothing to lose: when a whole peek holds
    // only such transactions, the slot moves past them at once and we peek again, so a busy
    // database's other traffic can never hold the stream back (nor pin the WAL).
    for (let round = 0; round < 20 && records.length === 0; round++) {
      rows = await s.query<{ lsn: string; data: string }>(
        "SELECT lsn::text AS lsn, data FROM pg_logical_slot_peek_changes(?, NULL, ?, 'include-xids', '1', 'skip-empty-xacts', '1')",
        [config.slot, Math.max(1, Math.floor(max))],
      );
      if (rows.length === 0) break;
      let pending: Change[] = [];
      let lastCommit: string | undefined;
      for (const row of rows) {
        if (row.data.startsWith('BEGIN')) {
          pending = [];
        } else if (row.data.startsWith('COMMIT')) {
          lastCommit = row.lsn;
          if (lsnValue(row.lsn) > floor) {
            for (const change of pending) {
              const spec = wanted.get(change.table);
              if (!spec) continue;
              if (spec.operations && !spec.operations.includes(change.op)) continue;
              const record: DataRecord = { ...change.row, [TABLE_FIELD]: spec.name, [OP_FIELD]: change.op };
              bytes += Buffer.byteLength(JSON.stringify(record));
              records.push(record);
            }
            last = row.lsn;
          }
          pending = [];
        } else {
          const change = parseChange(row.data);
          if (change && wanted.has(change.table)) pending.push(change);
        }
      }
      if (records.length === 0 && lastCommit) {
        await s.query('SELECT pg_replication_slot_advance(?, ?::pg_lsn)', [config.slot, lastCommit]);
      } else break;
    }
    return { records, offset: last ? { lsn: last } : (offset ?? {}), bytes, exhausted: rows.length === 0 || records.length === 0 };
  }
}

const IDENTITY: Record<string, string> = { n: 'NOTHING', i: 'USING INDEX' };

/** Every configured table exists and, when its deletes are replicated, has what makes a delete carry its key. */
async function checkTables(s: SqlSession, tables: TableSpec[], database: string): Promise<void> {
  if (tables.length === 0) return;
  const rows = await s.query<{ i: string; found: boolean; pk: boolean; identity: string | null }>(
    `SELECT t.i::text AS i, c.oid IS NOT NULL AS found, c.relreplident AS identity,
            EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisprimary) AS pk
       FROM unnest(?::text[]) WITH ORDINALITY AS t(name, i) LEFT JOIN pg_class c ON c.oid = to_regclass(t.name) ORDER BY t.i`,
    [tables.map((t) => s.quoteTable(t.name))],
  );
  const problems: string[] = [];
  for (const row of rows) {
    const spec = tables[Number(row.i) - 1];
    const deletes = !spec.operations || spec.operations.includes('delete');
    if (!row.found) problems.push(`table ${spec.name} does not exist in database ${database}`);
    else if (deletes && !row.pk) problems.push(`table ${spec.name} has no primary key, which CDC needs to apply deletes: add one, or replicate only inserts and updates (operations)`);
    else if (deletes && IDENTITY[row.identity ?? '']) {
      problems.push(`table ${spec.name} has REPLICA IDENTITY ${IDENTITY[row.identity!]}, so its deletes do not carry the primary key: ALTER TABLE ${s.quoteTable(spec.name)} REPLICA IDENTITY DEFAULT`);
    }
  }
  if (problems.length > 0) throw new RunConfigurationError(problems.join('; '));
}

/** The server's refusals that no retry cures, told as what to change; anything else as it is. */
export function pgCdcError(error: unknown, role: string): unknown {
  const { code, message = '' } = (error ?? {}) as { code?: string; message?: string };
  if (code === '42501' && /replication/i.test(message)) {
    return new RunConfigurationError(
      `role "${role}" lacks the REPLICATION attribute that CDC from PostgreSQL needs for its replication slot: ALTER ROLE "${role}" WITH REPLICATION (on RDS/Aurora: GRANT rds_replication TO "${role}")`,
    );
  }
  if (code === '55000' && /wal_level/.test(message)) {
    return new RunConfigurationError('the server does not run with wal_level = logical, which CDC from PostgreSQL needs: set it and restart the server (on RDS/Aurora: rds.logical_replication = 1)');
  }
  if (code === '53400' && /replication slots/i.test(message)) {
    return new RunConfigurationError('every replication slot of the server is in use: drop unused ones (pg_drop_replication_slot) or raise max_replication_slots');
  }
  return error;
}

/** One `test_decoding` change line: `table public.t: UPDATE: id[integer]:1 name[text]:'x'`. */
export function parseChange(data: string): Change | undefined {
  const head = /^table (.+?): (INSERT|UPDATE|DELETE): /.exec(data);
  if (!head) return undefined;
  const table = head[1].replaceAll('"', '');
  const op = head[2].toLowerCase() as Change['op'];
  let body = data.slice(head[0].length);
  if (body.startsWith('(no-tuple-data)')) return { table, op, row: {} };
  const newTuple = body.indexOf('new-tuple: ');
  if (body.startsWith('old-key: ') && newTuple >= 0) body = body.slice(newTuple + 'new-tuple: '.length);
  const row: DataRecord = {};
  let i = 0;
  while (i < body.length) {
    while (body[i] === ' ') i++;
    if (i >= body.length) break;
    let nameEnd = body.indexOf('[', i);
    let name: string;
    if (body[i] === '"') {
      const close = body.indexOf('"[', i + 1);
      name = body.slice(i + 1, close).replaceAll('""', '"');
      nameEnd = close + 1;
    } else name = body.slice(i, nameEnd);
    const typeEnd = body.indexOf(']:', nameEnd);
    const type = body.slice(nameEnd + 1, typeEnd);
    i = typeEnd + 2;
    let text: string | null;
    let quoted = false;
    if (body[i] === "'") {
      quoted = true;
      let j = i + 1;
      let out = '';
      for (;;) {
        const q = body.indexOf("'", j);
        if (q < 0) throw new Error(`unterminated value in change: ${data.slice(0, 200)}`);
        out += body.slice(j, q);
        if (body[q + 1] === "'") {
          out += "'";
          j = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      text = out;
    } else {
      const end = body.indexOf(' ', i);
      const raw = body.slice(i, end < 0 ? body.length : end);
      i = end < 0 ? body.length : end;
      text = raw === 'null' ? null : raw;
    }
    if (!quoted && text === 'unchanged-toast-datum') continue;
    row[name] = typed(type, text);
  }
  return { table, op, row };
}

function typed(type: string, text: string | null): unknown {
  if (text === null) return null;
  switch (type) {
    case 'smallint':
    case 'integer':
    case 'real':
    case 'double precision':
      return Number(text);
    case 'boolean':
      return text === 'true';
    default:
      return text;
  }
}
