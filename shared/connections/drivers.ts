import pg from 'pg';
import type { ConnectionType } from '../model/definition.ts';
import mysql from 'mysql2/promise';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';

/**
 * Opening database sessions from a connection's parameters plus its secret.
 * Every error message that leaves this module has the password scrubbed, so a
 * driver that echoed it could not leak it into a response or a log line.
 */
export interface ConnectionParams {
  type: ConnectionType;
  host: string;
  port: number;
  database: string;
  username: string;
  password?: string;
  ssl?: boolean | { rejectUnauthorized?: boolean; ca?: string };
  options?: Record<string, unknown>;
}

// Return numeric and temporal PostgreSQL values as strings: exact, and symmetric with MySQL's `dateStrings`.
const pgTypes = {
  getTypeParser: (oid: number, format?: string) => {
    // 20 int8, 1700 numeric, 1082 date, 1114 timestamp, 1184 timestamptz, 1083 time: keep text.
    if ([20, 1700, 1082, 1114, 1184, 1083, 1266].includes(oid)) return (value: string) => value;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export function scrub(message: string, password?: string): string {
  return password ? message.split(password).join('***') : message;
}

function sslOption(ssl: ConnectionParams['ssl']) {
  if (!ssl) return undefined;
  if (ssl === true) return { rejectUnauthorized: true };
  return { rejectUnauthorized: ssl.rejectUnauthorized ?? true, ...(ssl.ca ? { ca: ssl.ca } : {}) };
}

export async function openPostgres(params: ConnectionParams, timeoutMs = 10_000): Promise<pg.Client> {
  const client = new pg.Client({
    host: params.host,
    port: params.port,
    database: params.database,
    user: params.username,
    password: params.password ?? '',
    ssl: sslOption(params.ssl),
    connectionTimeoutMillis: timeoutMs,
    types: pgTypes,
    application_name: 'sluice',
    // Timestamps with time zone read as UTC text (`+00`), the same for every reader.
    options: '-c TimeZone=UTC',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw scrubbedError(error, params.password);
  }
  return client;
}

export async function openMysql(params: ConnectionParams, timeoutMs = 10_000): Promise<mysql.Connection> {
  try {
    const connection = await mysql.createConnection({
      host: params.host,
      port: params.port,
      database: params.database,
      user: params.username,
      password: params.password ?? '',
      ssl: sslOption(params.ssl),
      connectTimeout: timeoutMs,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      charset: 'utf8mb4_bin',
      timezone: 'Z',
      multipleStatements: false,
      // mysql2's own text-protocol float parser is off in the last digits; Number() of the server's text is exact.
      typeCast: (field, next) => {
        if (field.type === 'DOUBLE' || field.type === 'FLOAT') {
          const text = field.string();
          return text === null ? null : Number(text);
        }
        return next();
      },
    });
    connection.on('error', () => undefined);
    return connection;
  } catch (error) {
    throw scrubbedError(error, params.password);
  }
}

/** A readable reason from a driver error (code and message, never the config). */
export function describe(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message?: string }[] };
  // Node's AggregateError (connect to every address failed) has an empty message.
  const message = e?.message || e?.errors?.map((x) => x.message).join('; ') || String(error);
  return e?.code && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

/**
 * The driver's error without the password, keeping its `code` (ECONNREFUSED, ...) so transient failures are still
 * retried. node-postgres' connect timeout has no code ("timeout expired"): it gets ETIMEDOUT, as mysql2's has.
 */
function scrubbedError(error: unknown, password: string | undefined): Error {
  const e = error as { code?: unknown; message?: unknown };
  const code = e?.code ?? (/timeout/i.test(String(e?.message ?? '')) ? 'ETIMEDOUT' : undefined);
  return Object.assign(new Error(scrub(describe(error), password)), { code });
}

export type PingResult = { ok: true; latencyMs: number } | { ok: false; error: string };

/** Really connects, runs a trivial statement, disconnects; never throws. */
export async function ping(params: ConnectionParams, timeoutMs = 5_000): Promise<PingResult> {
  const started = performance.now();
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer from ${params.host}:${params.port} within ${timeoutMs} ms`)), timeoutMs).unref(),
  );
  try {
    await Promise.race([pingOnce(params, timeoutMs), timeout]);
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (error) {
    return { ok: false, error: scrub(describe(error), params.password) };
  }
}

async function pingOnce(params: ConnectionParams, timeoutMs: number): Promise<void> {
  switch (params.type) {
    case 'postgresql':
    case 'mysql': {
      const session: { query(sql: string): Promise<unknown>; end(): Promise<void> } =
        params.type === 'postgresql' ? await openPostgres(params, timeoutMs) : await openMysql(params, timeoutMs);
      try {
        await session.query('SELECT 1');
      } finally {
        await session.end().catch(() => undefined);
      }
      return;
    }
    case 's3': {
      try {
        await s3ClientFor(params).send(new HeadBucketCommand({ Bucket: params.database }));
      } catch (error) {
        throw new Error(headBucketReason(error, params.database));
      }
      return;
    }
  }
}

/** HeadBucket answers without a body, so the SDK's error says "UnknownError": say which bucket and what the status means instead. */
function headBucketReason(error: unknown, bucket: string): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if (!status) return describe(error); // no answer at all: ECONNREFUSED, a timeout
  if (status === 404) return `bucket ${bucket} does not exist (HTTP 404)`;
  if (status === 403) return `access to bucket ${bucket} denied (HTTP 403): check the access key pair and the bucket policy`;
  const message = e.message && e.message !== 'UnknownError' ? e.message : (e.name ?? 'error');
  return `bucket ${bucket}: ${message} (HTTP ${status})`;
}

/**
 * An S3 connection: `database` is the bucket, `username`/password an access key
 * pair (omit both to use the function's own role), `host` an optional endpoint
 * (`http://host:port` or a host name), `options.region` and `options.forcePathStyle`.
 */
export function s3ClientFor(params: ConnectionParams): S3Client {
  const endpoint = params.host
    ? /^https?:\/\//.test(params.host)
      ? params.host
      : `${params.ssl === false ? 'http' : 'https'}://${params.host}${params.port ? `:${params.port}` : ''}`
    : undefined;
  return new S3Client({
    ...(endpoint ? { endpoint } : {}),
    region: String(params.options?.region ?? process.env.AWS_REGION ?? 'us-east-1'),
    forcePathStyle: Boolean(params.options?.forcePathStyle ?? !!endpoint),
    ...(params.username && params.password ? { credentials: { accessKeyId: params.username, secretAccessKey: params.password } } : {}),
  });
}
