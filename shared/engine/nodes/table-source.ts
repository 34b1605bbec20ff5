import { RunConfigurationError } from '../errors.ts';
import type { ConnectionParams } from '../../connections/drivers.ts';
import type { DataRecord, SourceBatch, SourceOffset, SourceReader } from '../types.ts';
import { openSession, type SqlSession, type TableSchema } from './sql.ts';

/**
 * `table-source` in convert (batch) mode: reads each configured table (or
 * custom query) in primary-key order, in bundles, by keyset pagination
 * (`WHERE key > last ORDER BY key LIMIT n`), so a read never rescans what was
 * committed and concurrent inserts behind the cursor are never read twice.
 * Without a primary key (a query over a table without one) it falls back to
 * `ORDER BY <every column> LIMIT n OFFSET rows` (documented: stable only if
 * the data does not change meanwhile).
 *
 * Records are the rows as the driver reads them (numbers, exact decimals and
 * 64-bit integers as strings, timestamps as text, binary as `\x<hex>`), plus
 * `__table`: the configured table name the sink writes to.
 *
 * Offset: `{table: <index in tables>, key: [last primary key values] | null, rows: <rows read of that table>}`.
 */
export const TABLE_FIELD = '__table';
export const OP_FIELD = '__op';

export interface TableSpec {
  name: string;
  query?: string;
  operations?: ('insert' | 'update' | 'delete')[];
}

export interface TableSourceConfig {
  tables?: TableSpec[];
  query?: string;
}

export interface TableSourceOffset extends SourceOffset {
  table: number;
  key: unknown[] | null;
  rows: number;
}

export interface TableSource extends SourceReader {
  /** The schema of a configured table (or query) as the source sees it; what `createStructure` maps. */
  describe(table: string): Promise<TableSchema>;
  tables: TableSpec[];
}

export function tableSpecs(config: TableSourceConfig): TableSpec[] {
  if (config.tables?.length) return config.tables;
  if (config.query) return [{ name: 'query', query: config.query }];
  throw new Error('a table-source needs tables or a query');
}

/** A JSON-safe record: Buffers become PostgreSQL's `\x<hex>` text (the sink turns them back into bytes). */
export function jsonSafe(row: Record<string, unknown>): DataRecord {
  for (const [k, v] of Object.entries(row)) {
    if (Buffer.isBuffer(v)) row[k] = `\\x${v.toString('hex')}`;
    else if (v instanceof Date) row[k] = v.toISOString();
  }
  return row;
}

export function createTableSource(params: ConnectionParams, config: TableSourceConfig): TableSource {
  const tables = tableSpecs(config);
  let session: SqlSession | undefined;
  const schemas = new Map<string, Promise<TableSchema>>();
  const connect = async () => (session ??= await openSession(params));

  const describe = (name: string) => {
    const spec = tables.find((t) => t.name === name);
    if (!spec) return Promise.reject(new Error(`table ${name} is not configured on this source`));
    let schema = schemas.get(name);
    if (!schema) {
      schema = connect().then((s) => (spec.query ? s.describeQuery(spec.name, spec.query) : s.describeTable(spec.name)));
      schemas.set(name, schema);
      schema.catch(() => schemas.delete(name));
    }
    return schema;
  };

  return {
    tables,
    describe,
    async read(offset, max): Promise<SourceBatch> {
      let position = (offset as TableSourceOffset | undefined) ?? { table: 0, key: null, rows: 0 };
      const s = await connect();
      while (position.table < tables.length) {
        const spec = tables[position.table];
        const schema = await describe(spec.name);
        const from = spec.query ? `(${spec.query}) AS q` : s.quoteTable(spec.name);
        const pk = schema.primaryKey;
        let sql: string;
        let args: unknown[] = [];
        if (pk.length > 0) {
          const order = pk.map((k) => s.quote(k)).join(', ');
          let where = '';
          if (position.key && position.key.length !== pk.length) {
            // Only an offset set by hand can be like this; read as it is, it would skip the whole table.
            throw new RunConfigurationError(`the offset's key ${JSON.stringify(position.key)} has ${position.key.length} values, but table ${spec.name}'s primary key has ${pk.length} columns (${pk.join(', ')})`);
          }
          if (position.key) {
            // (a > x) OR (a = x AND b > y) ...: index-friendly on both dialects.
            const terms = pk.map((_, i) =>
              [...pk.slice(0, i).map((k) => `${s.quote(k)} = ?`), `${s.quote(pk[i])} > ?`].join(' AND '),
            );
            where = `WHERE ${terms.map((t) => `(${t})`).join(' OR ')}`;
            args = pk.flatMap((_, i) => [...position.key!.slice(0, i), position.key![i]]);
          }
          sql = `SELECT * FROM ${from} ${where} ORDER BY ${order} LIMIT ${Math.floor(max)}`;
        } else {
          const order = schema.columns.map((c) => s.quote(c.name)).join(', ');
          sql = `SELECT * FROM ${from} ORDER BY ${order} LIMIT ${Math.floor(max)} OFFSET ${position.rows}`;
        }
        const rows = await s.query<Record<string, unknown>>(sql, args);
        let bytes = 0;
        const records = rows.map((row) => {
          const record = jsonSafe(row);
          bytes += Buffer.byteLength(JSON.stringify(record));
          record[TABLE_FIELD] = spec.name;
          return record;
        });
        const last = records[records.length - 1];
        const next: TableSourceOffset =
          rows.length < max
            ? { table: position.table + 1, key: null, rows: 0 }
            : { table: position.table, key: pk.map((k) => last[k]), rows: position.rows + rows.length };
        if (rows.length === 0) {
          position = next;
          continue;
        }
        return { records, offset: next, bytes, exhausted: next.table >= tables.length };
      }
      return { records: [], offset: position, bytes: 0, exhausted: true };
    },
    async close() {
      await session?.close().catch(() => undefined);
      session = undefined;
    },
  };
}
