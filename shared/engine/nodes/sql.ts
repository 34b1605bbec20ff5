import type pg from 'pg';
import type mysql from 'mysql2/promise';
import { openMysql, openPostgres, type ConnectionParams } from '../../connections/drivers.ts';

/**
 * One SQL session over PostgreSQL or MySQL/MariaDB with the few operations the
 * table nodes need, plus the portable column-type model that lets
 * `createStructure` map a source table onto the other dialect.
 */
export type Dialect = 'postgresql' | 'mysql';

/** Portable column types; every source type maps onto one, every one onto a target type. */
export type CanonicalType =
  | { kind: 'smallint' | 'integer' | 'bigint' | 'real' | 'double' | 'boolean' | 'text' | 'date' | 'time' | 'timestamp' | 'timestamptz' | 'json' | 'binary' | 'uuid' }
  | { kind: 'numeric'; precision?: number; scale?: number }
  | { kind: 'varchar' | 'char'; length?: number };

export interface ColumnSchema {
  name: string;
  type: CanonicalType;
  nullable: boolean;
  /** The source's own type text, for messages. */
  sourceType: string;
}

export interface TableSchema {
  name: string;
  columns: ColumnSchema[];
  primaryKey: string[];
}

export interface SqlSession {
  dialect: Dialect;
  /** Runs a statement with `?` placeholders (translated to $n for PostgreSQL). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  quote(identifier: string): string;
  /** A table name as given (`schema.table` or `table`), quoted. */
  quoteTable(name: string): string;
  describeTable(name: string): Promise<TableSchema>;
  describeQuery(name: string, sql: string): Promise<TableSchema>;
  tableExists(name: string): Promise<boolean>;
  close(): Promise<void>;
  raw: pg.Client | mysql.Connection;
}

export async function openSession(params: ConnectionParams): Promise<SqlSession> {
  if (params.type === 'postgresql') return pgSession(await openPostgres(params));
  if (params.type === 'mysql') return mysqlSession(await openMysql(params));
  throw new Error(`a ${params.type} connection is not a database`);
}

/** `schema.table` or `table`: the schema (undefined for the connection's own) and the table. */
export const splitName = (name: string) => {
  const dot = name.indexOf('.');
  return dot > 0 ? { schema: name.slice(0, dot), table: name.slice(dot + 1) } : { schema: undefined, table: name };
};

/** `?` → `$1, $2...` outside quotes. */
function numberPlaceholders(sql: string): string {
  let n = 0;
  let quote: string | null = null;
  let out = '';
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '?') {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}

function pgSession(client: pg.Client): SqlSession {
  const quote = (id: string) => `"${id.replaceAll('"', '""')}"`;
  const quoteTable = qualified(quote);
  const describeIfExists = async (name: string) => ((await session.tableExists(name)) ? pgDescribe(session, name, quoteTable(name)) : undefined);
  const session: SqlSession = {
    dialect: 'postgresql',
    raw: client,
    quote,
    quoteTable,
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query(numberPlaceholders(sql), params)).rows as T[];
    },
    async tableExists(name) {
      const rows = await session.query<{ r: string | null }>('SELECT to_regclass(?)::text AS r', [quoteTable(name)]);
      return rows[0]?.r != null;
    },
    async describeTable(name) {
      const schema = await describeIfExists(name);
      if (!schema) throw new Error(`relation "${name}" does not exist`);
      return schema;
    },
    describeQuery: (name, sql) =>
      describeQueryVia(session, name, sql, {
        temporary: 'TEMP TABLE',
        drop: 'DROP TABLE IF EXISTS',
        describe: (temp) => pgDescribe(session, name, temp),
        describeIfExists,
      }),
    close: () => client.end(),
  };
  return session;
}

async function pgDescribe(session: SqlSession, name: string, quotedRelation: string): Promise<TableSchema> {
  const columns = await session.query<{ attname: string; type: string; notnull: boolean }>(
    `SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull AS notnull
       FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [quotedRelation],
  );
  const pk = await session.query<{ attname: string }>(
    `SELECT a.attname FROM pg_index i
       JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = ?::regclass AND i.indisprimary ORDER BY k.ord`,
    [quotedRelation],
  );
  return {
    name,
    columns: columns.map((c) => ({ name: c.attname, type: fromPostgresType(c.type), nullable: !c.notnull, sourceType: c.type })),
    primaryKey: pk.map((p) => p.attname),
  };
}

function mysqlSession(connection: mysql.Connection): SqlSession {
  const quote = (id: string) => `\`${id.replaceAll('`', '``')}\``;
  const quoteTable = qualified(quote);
  const describe = async (name: string, relation: string): Promise<TableSchema> => {
    const rows = await session.query<{ Field: string; Type: string; Null: string; Key: string }>(`SHOW COLUMNS FROM ${relation}`);
    return {
      name,
      columns: rows.map((r) => ({ name: r.Field, type: fromMysqlType(r.Type), nullable: r.Null === 'YES', sourceType: r.Type })),
      primaryKey: [],
    };
  };
  // Fails with MySQL's own message when the table does not exist.
  const describeTable = async (name: string): Promise<TableSchema> => {
    const schema = await describe(name, quoteTable(name));
    const { schema: db, table } = splitName(name);
    const pk = await session.query<{ COLUMN_NAME: string }>(
      `SELECT COLUMN_NAME FROM information_schema.key_column_usage
        WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? AND constraint_name = 'PRIMARY' ORDER BY ordinal_position`,
      [db ?? null, table],
    );
    schema.primaryKey = pk.map((p) => p.COLUMN_NAME);
    return schema;
  };
  const describeIfExists = async (name: string) => ((await session.tableExists(name)) ? describeTable(name) : undefined);
  const session: SqlSession = {
    dialect: 'mysql',
    raw: connection,
    quote,
    quoteTable,
    async query<T>(sql: string, params: unknown[] = []) {
      const [rows] = await connection.query(sql, params);
      return (Array.isArray(rows) ? rows : []) as T[];
    },
    async tableExists(name) {
      const { schema, table } = splitName(name);
      const rows = await session.query(
        'SELECT 1 FROM information_schema.tables WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?',
        [schema ?? null, table],
      );
      return rows.length > 0;
    },
    describeTable,
    describeQuery: (name, sql) =>
      describeQueryVia(session, name, sql, {
        temporary: 'TEMPORARY TABLE',
        drop: 'DROP TEMPORARY TABLE IF EXISTS',
        describe: (temp) => describe(name, temp),
        describeIfExists,
      }),
    close: () => connection.end(),
  };
  return session;
}

/** A table name as given (`schema.table` or `table`), quoted with the dialect's identifier quote. */
const qualified = (quote: (id: string) => string) => (name: string) => {
  const { schema, table } = splitName(name);
  return schema ? `${quote(schema)}.${quote(table)}` : quote(table);
};

/**
 * The columns a query yields, read off an empty temporary table made from it;
 * its key is the named table's primary key when the query keeps all of it.
 */
async function describeQueryVia(
  session: SqlSession,
  name: string,
  sql: string,
  dialect: { temporary: string; drop: string; describe: (quotedTemp: string) => Promise<TableSchema>; describeIfExists: (name: string) => Promise<TableSchema | undefined> },
): Promise<TableSchema> {
  const temp = session.quote(`sluice_describe_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`);
  await session.query(`CREATE ${dialect.temporary} ${temp} AS SELECT * FROM (${sql}) AS q LIMIT 0`);
  try {
    const schema = await dialect.describe(temp);
    const base = await dialect.describeIfExists(name);
    const names = new Set(schema.columns.map((c) => c.name));
    schema.primaryKey = base && base.primaryKey.every((k) => names.has(k)) ? base.primaryKey : [];
    return schema;
  } finally {
    await session.query(`${dialect.drop} ${temp}`);
  }
}

const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));

/** PostgreSQL `format_type` text → canonical. */
export function fromPostgresType(type: string): CanonicalType {
  const t = type.toLowerCase();
  if (t.endsWith('[]')) return { kind: 'json' };
  let m: RegExpExecArray | null;
  if (t === 'smallint') return { kind: 'smallint' };
  if (t === 'integer') return { kind: 'integer' };
  if (t === 'bigint') return { kind: 'bigint' };
  if ((m = /^numeric(?:\((\d+)(?:,(\d+))?\))?$/.exec(t))) return { kind: 'numeric', precision: num(m[1]), scale: num(m[2] ?? (m[1] ? '0' : undefined)) };
  if (t === 'real') return { kind: 'real' };
  if (t === 'double precision') return { kind: 'double' };
  if (t === 'boolean') return { kind: 'boolean' };
  if ((m = /^character varying(?:\((\d+)\))?$/.exec(t))) return m[1] ? { kind: 'varchar', length: Number(m[1]) } : { kind: 'text' };
  if ((m = /^character(?:\((\d+)\))?$/.exec(t))) return { kind: 'char', length: num(m[1]) ?? 1 };
  if (t === 'text' || t === 'citext' || t === 'name') return { kind: 'text' };
  if (t === 'date') return { kind: 'date' };
  if (t.startsWith('time') && t.includes('without time zone') && !t.startsWith('timestamp')) return { kind: 'time' };
  if (t.startsWith('timestamp') && t.includes('with time zone') && !t.includes('without')) return { kind: 'timestamptz' };
  if (t.startsWith('timestamp')) return { kind: 'timestamp' };
  if (t.startsWith('time')) return { kind: 'time' };
  if (t === 'json' || t === 'jsonb') return { kind: 'json' };
  if (t === 'bytea') return { kind: 'binary' };
  if (t === 'uuid') return { kind: 'uuid' };
  return { kind: 'text' };
}

/** MySQL/MariaDB COLUMN_TYPE text → canonical. */
export function fromMysqlType(type: string): CanonicalType {
  const t = type.toLowerCase();
  const unsigned = t.includes('unsigned');
  let m: RegExpExecArray | null;
  if (/^tinyint\(1\)/.test(t) || t === 'boolean' || t === 'bit(1)') return { kind: 'boolean' };
  if (/^(tinyint|smallint)/.test(t)) return { kind: unsigned && t.startsWith('smallint') ? 'integer' : 'smallint' };
  if (/^(mediumint|int|integer)\b/.test(t)) return { kind: unsigned && !t.startsWith('mediumint') ? 'bigint' : 'integer' };
  if (/^bigint/.test(t)) return unsigned ? { kind: 'numeric', precision: 20, scale: 0 } : { kind: 'bigint' };
  if ((m = /^(?:decimal|numeric)(?:\((\d+)(?:,(\d+))?\))?/.exec(t))) return { kind: 'numeric', precision: num(m[1]) ?? 10, scale: num(m[2]) ?? 0 };
  if (/^float/.test(t)) return { kind: 'real' };
  if (/^(double|real)/.test(t)) return { kind: 'double' };
  if ((m = /^varchar\((\d+)\)/.exec(t))) return { kind: 'varchar', length: Number(m[1]) };
  if ((m = /^char\((\d+)\)/.exec(t))) return { kind: 'char', length: Number(m[1]) };
  if (/^(tiny|medium|long)?text/.test(t)) return { kind: 'text' };
  if (/^(enum|set)\(/.test(t)) return { kind: 'varchar', length: 255 };
  if (t === 'date') return { kind: 'date' };
  if (/^datetime/.test(t)) return { kind: 'timestamp' };
  if (/^timestamp/.test(t)) return { kind: 'timestamptz' };
  if (/^time/.test(t)) return { kind: 'time' };
  if (/^year/.test(t)) return { kind: 'smallint' };
  if (t === 'json') return { kind: 'json' };
  if (t === 'uuid') return { kind: 'uuid' };
  if (/^(tiny|medium|long)?blob|^(var)?binary|^bit/.test(t)) return { kind: 'binary' };
  return { kind: 'text' };
}

/** Canonical → the target dialect's column type. `key`: part of the primary key (MySQL needs bounded types there). */
export function targetType(type: CanonicalType, dialect: Dialect, key = false): string {
  if (dialect === 'postgresql') {
    switch (type.kind) {
      case 'smallint': return 'smallint';
      case 'integer': return 'integer';
      case 'bigint': return 'bigint';
      case 'numeric': return type.precision ? `numeric(${type.precision},${type.scale ?? 0})` : 'numeric';
      case 'real': return 'real';
      case 'double': return 'double precision';
      case 'boolean': return 'boolean';
      case 'varchar': return type.length ? `varchar(${type.length})` : 'text';
      case 'char': return `char(${type.length ?? 1})`;
      case 'text': return 'text';
      case 'date': return 'date';
      case 'time': return 'time(6)';
      case 'timestamp': return 'timestamp(6)';
      case 'timestamptz': return 'timestamptz(6)';
      case 'json': return 'jsonb';
      case 'binary': return 'bytea';
      case 'uuid': return 'uuid';
    }
  }
  switch (type.kind) {
    case 'smallint': return 'SMALLINT';
    case 'integer': return 'INT';
    case 'bigint': return 'BIGINT';
    case 'numeric': return type.precision ? `DECIMAL(${Math.min(type.precision, 65)},${Math.min(type.scale ?? 0, 30)})` : 'DECIMAL(65,30)';
    case 'real': return 'FLOAT';
    case 'double': return 'DOUBLE';
    case 'boolean': return 'BOOLEAN';
    case 'varchar': return type.length && type.length <= 16_383 ? `VARCHAR(${type.length})` : key ? 'VARCHAR(768)' : 'LONGTEXT';
    case 'char': return `CHAR(${Math.min(type.length ?? 1, 255)})`;
    case 'text': return key ? 'VARCHAR(768)' : 'LONGTEXT';
    case 'date': return 'DATE';
    case 'time': return 'TIME(6)';
    case 'timestamp': return 'DATETIME(6)';
    // MySQL has no zoned type: instants are kept as UTC DATETIME.
    case 'timestamptz': return 'DATETIME(6)';
    case 'json': return 'JSON';
    case 'binary': return key ? 'VARBINARY(767)' : 'LONGBLOB';
    case 'uuid': return 'CHAR(36)';
  }
}

/** A source value made acceptable to the target column (drivers escape the rest). */
export function toTargetValue(value: unknown, type: CanonicalType | undefined, dialect: Dialect): unknown {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Date) return dialect === 'mysql' ? value.toISOString().replace('T', ' ').replace('Z', '') : value.toISOString();
  switch (type?.kind) {
    case 'json':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'boolean':
      if (typeof value === 'boolean') return dialect === 'mysql' ? (value ? 1 : 0) : value;
      if (typeof value === 'number' || typeof value === 'string') return dialect === 'mysql' ? (Number(value) ? 1 : 0) : Number(value) !== 0 && value !== 'false' && value !== 'f';
      return value;
    case 'timestamptz':
    case 'timestamp':
      if (typeof value === 'string' && dialect === 'mysql') return utcDateTime(value);
      return value;
    case 'binary':
      if (typeof value === 'string' && value.startsWith('\\x')) return Buffer.from(value.slice(2), 'hex');
      return value;
    default:
      if (typeof value === 'object') return JSON.stringify(value);
      return value;
  }
}

/** `2024-01-02 03:04:05.123456+00` (or any offset) → `2024-01-02 03:04:05.123456` in UTC. */
export function utcDateTime(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(text.trim());
  if (!m || !m[4] || m[4] === 'Z' || /^[+-]00(:?00)?$/.test(m[4])) return m ? `${m[1]} ${m[2]}${m[3] ?? ''}` : text;
  const base = new Date(`${m[1]}T${m[2]}${m[4].length === 3 ? `${m[4]}:00` : m[4]}`);
  return `${base.toISOString().slice(0, 19).replace('T', ' ')}${m[3] ?? ''}`;
}
