import ZongJi from '@vlasky/zongji';
import type { ConnectionParams } from '../../connections/drivers.ts';
import { RunConfigurationError } from '../errors.ts';
import type { DataRecord, SourceBatch, SourceOffset, SourceReader } from '../types.ts';
import { openSession, splitName, type SqlSession } from './sql.ts';
import { jsonSafe, OP_FIELD, TABLE_FIELD, type TableSpec } from './table-source.ts';

/**
 * `table-source` in continuous (CDC) mode over the MySQL / MariaDB binlog (ROW
 * format), read with @vlasky/zongji (a binlog replication client on mysql2).
 *
 * Each read is bounded, as a Lambda needs: it opens a replication stream at
 * the offset `{file, position}` in non-blocking mode (the server ends the
 * stream at the current end of the binlog), collects whole transactions (up to
 * their XID event) until `max` records, and closes. The offset is the
 * position right after the last transaction returned, so the protocol is the
 * PostgreSQL one: read, write the target, commit the offset; a crash before
 * the commit re-reads the same transactions (re-applied as upserts, no change).
 *
 * Where a stream without an offset starts: the binlog position at its first
 * read, kept by `anchor` (the engine registration stores it in DynamoDB at
 * `STM#{stream}/CDC#{node}` with a conditional put), so changes made between
 * that first read and the first committed bundle are not lost.
 *
 * Set-up errors fail the run at once (`RunConfigurationError`) with what to
 * fix: a configured table that does not exist (its changes would just never
 * come), the binlog off or not in ROW format, an account without the
 * replication privileges and a position whose binlog was purged
 * (`mysqlCdcError`).
 */
export interface BinlogPosition extends SourceOffset {
  file: string;
  position: number;
}

export interface BinlogAnchor {
  /** The stored start position, or the one given if none was stored yet. */
  claim(position: BinlogPosition): Promise<BinlogPosition>;
}

export interface MysqlCdcConfig {
  tables: TableSpec[];
  anchor: BinlogAnchor;
  /** A read ends after this long even if the server keeps sending (ms). */
  maxReadMs?: number;
  /** The stream and node, named in what an error tells the operator to do. */
  ids?: { streamId: string; nodeId: string };
}

const EVENTS = ['rotate', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid'];

export function createMysqlCdcSource(params: ConnectionParams, config: MysqlCdcConfig): SourceReader {
  const wanted = new Map(config.tables.map((t) => [splitName(t.name).table, t]));
  const includeSchema: Record<string, string[]> = {};
  for (const t of config.tables) {
    const { schema, table } = splitName(t.name);
    (includeSchema[schema ?? params.database] ??= []).push(table);
  }
  const tablesKey = `${params.username}@${params.host}:${params.port}/${params.database} ${config.tables.map((t) => t.name).join(',')}`;

  /** The tables exist (checked once per Lambda instance and table list); without an offset yet, also the binlog position to start from. */
  const prepare = async (offset: BinlogPosition | undefined): Promise<BinlogPosition> => {
    const checked = tablesChecked.has(tablesKey);
    if (checked && offset?.file) return offset;
    const session = await openSession(params);
    try {
      if (!checked) await checkTables(session, config.tables, params);
      tablesChecked.add(tablesKey);
      if (offset?.file) return offset;
      const [status] = await session.query<{ File: string; Position: string | number }>('SHOW MASTER STATUS');
      if (!status) throw new RunConfigurationError('the binlog is off on this server (log_bin): CDC from MySQL needs it, with binlog_format=ROW');
      const [format] = await session.query<{ f: string }>('SELECT @@GLOBAL.binlog_format AS f');
      if (format?.f !== 'ROW') throw new RunConfigurationError(`binlog_format is ${format?.f} on this server: CDC from MySQL needs ROW`);
      return await config.anchor.claim({ file: status.File, position: Number(status.Position) });
    } finally {
      await session.close().catch(() => undefined);
    }
  };

  return {
    async read(offset, max): Promise<SourceBatch> {
      let from: BinlogPosition | undefined;
      try {
        from = await prepare(offset as BinlogPosition | undefined);
        return await readEvents(from, max);
      } catch (error) {
        throw mysqlCdcError(error, params.username, { ...config.ids, from });
      }
    },
  };

  async function readEvents(from: BinlogPosition, max: number): Promise<SourceBatch> {
    const records: DataRecord[] = [];
    let bytes = 0;
    let last: BinlogPosition = { file: from.file, position: from.position };
    let pending: DataRecord[] = [];
    const zongji = new ZongJi({
      host: params.host, port: params.port, user: params.username, password: params.password ?? '',
      dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, charset: 'utf8mb4_bin',
    } as ConstructorParameters<typeof ZongJi>[0]);
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let ended = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearTimeout(idle);
        zongji.removeAllListeners('binlog');
        zongji.stop();
        if (error) reject(error);
        else resolve();
      };
      // After the server ends the non-blocking dump, let the events already received drain.
      const armIdle = () => {
        if (!ended) return;
        clearTimeout(idle);
        idle = setTimeout(() => finish(), 100);
      };
      const deadline = setTimeout(() => finish(), config.maxReadMs ?? 10_000);
      zongji.on('error', (error: Error & { code?: string }) => {
        if (/Connection lost|closed the connection/i.test(error.message) || error.code === 'PROTOCOL_CONNECTION_LOST') {
          ended = true;
          armIdle();
        } else finish(error);
      });
      zongji.on('stopped', () => {
        ended = true;
        armIdle();
      });
      zongji.on('binlog', (event: any) => {
        armIdle();
        const name = event.getEventName();
        if (name === 'xid') {
          for (const record of pending) {
            bytes += Buffer.byteLength(JSON.stringify(record));
            records.push(record);
          }
          pending = [];
          last = { file: zongji.options.filename ?? last.file, position: event.nextPosition };
          if (records.length >= max) finish();
          return;
        }
        if (!name.endsWith('rows')) return;
        const table = event.tableMap?.[event.tableId];
        const spec = table && wanted.get(table.tableName);
        if (!spec) return;
        const op = name === 'writerows' ? 'insert' : name === 'updaterows' ? 'update' : 'delete';
        if (spec.operations && !spec.operations.includes(op)) return;
        for (const row of event.rows) {
          const image = op === 'update' ? row.after : row;
          pending.push({ ...jsonSafe({ ...image }), [TABLE_FIELD]: spec.name, [OP_FIELD]: op });
        }
      });
      zongji.start({
        filename: from.file,
        position: from.position,
        nonBlock: true,
        // Each reader is its own replica: a shared server id would make the server drop the older one.
        serverId: 100_000 + Math.floor(Math.random() * 2_000_000_000),
        includeEvents: EVENTS,
        includeSchema,
      } as Parameters<ZongJi['start']>[0]);
    });
    return { records, offset: last, bytes, exhausted: records.length < max };
  }
}

/**
 * Table lists already found complete by this Lambda instance: a continuous
 * run polls every few seconds, each poll a new source, and the check would
 * otherwise open a session of its own every time.
 */
const tablesChecked = new Set<string>();

/** Every configured table exists (information_schema shows only tables the account may use). */
async function checkTables(session: SqlSession, tables: TableSpec[], params: ConnectionParams): Promise<void> {
  const exists = await Promise.all(tables.map((spec) => session.tableExists(spec.name)));
  const missing = tables
    .filter((_, i) => !exists[i])
    .map((spec) => {
      const { schema, table } = splitName(spec.name);
      return `table ${schema ?? params.database}.${table} does not exist (or user ${params.username} has no privilege on it)`;
    });
  if (missing.length > 0) throw new RunConfigurationError(missing.join('; '));
}

/** Error 1236's messages for a start position the binlog no longer has (the same error reports other dump failures too). */
const BINLOG_GONE = /Could not find first log file name|impossible position|position > file size/i;

/**
 * Set-up refusals told as what to do: the server's refusal for want of a
 * privilege (SHOW MASTER STATUS, the binlog dump) as the grant to make; a
 * start position no longer in the binlog (error 1236: purged by expiry or
 * PURGE BINARY LOGS, or the binlog reset) as the new start to set and the copy
 * to make again. A reset without offsets would not do: it goes back to the
 * stream's anchor, older still.
 */
export function mysqlCdcError(error: unknown, user: string, where: { streamId?: string; nodeId?: string; from?: BinlogPosition } = {}): unknown {
  const { code, errno, message = '' } = (error ?? {}) as { code?: string; errno?: number; message?: string };
  if (code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR') {
    return new RunConfigurationError(
      `user ${user} lacks the privileges CDC from MySQL reads the binlog with: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${user}' (the server said: ${message})`,
    );
  }
  // mysql2 names 1236 ER_SOURCE_FATAL_ERROR_READING_BINLOG (older versions ER_MASTER_…).
  const fatalRead = errno === 1236 || code === 'ER_SOURCE_FATAL_ERROR_READING_BINLOG' || code === 'ER_MASTER_FATAL_ERROR_READING_BINLOG';
  if (fatalRead && BINLOG_GONE.test(message)) {
    const { streamId = '{id}', nodeId = '<node id>', from } = where;
    return new RunConfigurationError(
      `the binlog position this stream reads from${from ? ` (${from.file} at ${from.position})` : ''} is gone from the server (the server said: ${message}): ` +
        'its binlog was purged (binlog_expire_logs_seconds / expire_logs_days, PURGE BINARY LOGS) or reset while the stream was stopped or behind, so the changes made since are lost. ' +
        `Set the stream's offset to the server's current position (File and Position of SHOW MASTER STATUS): POST /v1/streams/${streamId}/offsets/reset ` +
        `{"offsets": {"${nodeId}": {"file": "<File>", "position": <Position>}}} (a reset without offsets goes back to the stream's first position, purged too); ` +
        'then copy the table again with a convert run and start the stream. Keep binlogs for longer than a stream may stay stopped',
    );
  }
  return error;
}
