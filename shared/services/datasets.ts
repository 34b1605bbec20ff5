import { ulid } from 'ulid';
import { partObjectKey, presignGet, putObject, readObject } from '../blobs/objects.ts';
import type { DataRecord } from '../engine/types.ts';
import { conflict, notFound } from '../model/errors.ts';
import type { UpdateMethod } from '../model/execution.ts';
import type { Principal } from '../model/principal.ts';
import { getDatasetPointer, type DatasetPointer } from '../store/datasets.ts';
import { executionNumberOfToken, getExecutionByNumber, putPart, type ExecutionRecord } from '../store/executions.ts';
import { getStreamRecord, type StreamRecord } from '../store/streams.ts';
import { commitExecutionRecord, datasetSettings, startExecution } from './executions.ts';
import { getStream } from './streams.ts';

/** `GET /v1/streams/{id}/dataset`. */
export async function getDataset(principal: Principal, streamId: string): Promise<DatasetPointer> {
  await getStream(principal, streamId);
  return getDatasetPointer(streamId);
}

/** A presigned GET of the current version's CSV (immutable per version). */
export async function datasetDownloadUrl(principal: Principal, streamId: string): Promise<{ url: string; version: number }> {
  await getStream(principal, streamId);
  const pointer = await getDatasetPointer(streamId);
  if (!pointer.version || !pointer.objectKey) throw notFound(`a committed dataset version of stream ${streamId}`);
  return { url: await presignGet(pointer.objectKey, 'text/csv; charset=utf-8', `${streamId}-v${pointer.version}.csv`), version: pointer.version };
}

// ------------------------------------------------------------------ the run engine's entry points

async function streamFor(streamId: string): Promise<StreamRecord> {
  const stream = await getStreamRecord(streamId);
  if (!stream) throw notFound(`stream ${streamId}`);
  return stream;
}

const cell = (value: unknown): string =>
  value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);

/** The column names records are written under: the dataset's schema, else the keys of the records in order of appearance. */
function columnsFor(stream: StreamRecord, pointer: DatasetPointer, records: DataRecord[]): string[] {
  const schema = datasetSettings(stream).schema ?? pointer.schema;
  if (schema) return schema.columns.map((c) => c.name);
  const names = new Set<string>();
  for (const record of records) for (const name of Object.keys(record)) names.add(name);
  return [...names];
}

export interface CommitRowsOptions {
  method: UpdateMethod;
  keyColumnNames?: string[];
  /** Caller-chosen idempotency token, e.g. `${runId}/${bundle}`: a retry with the same token writes nothing new. */
  token: string;
}

export interface CommitRowsResult {
  version: number;
  rows: number;
  bytes: number;
  executionId: string;
  /** True when this token had already been committed. */
  replayed: boolean;
}

/**
 * Writes records as the stream's next dataset version (the `dataset` sink),
 * exactly once per token: an execution named by the token carries one part
 * with the records, then commits. A retry after a crash finds the token's
 * execution and finishes it (or returns its result if it already committed).
 * 409 while a client holds the stream's ACTIVE execution.
 */
export async function commitRows(streamId: string, records: DataRecord[], options: CommitRowsOptions): Promise<CommitRowsResult> {
  const stream = await streamFor(streamId);
  const known = await executionNumberOfToken(streamId, options.token);
  let execution: ExecutionRecord | undefined = known === undefined ? undefined : await getExecutionByNumber(streamId, known);
  const done = (e: ExecutionRecord, replayed: boolean): CommitRowsResult => ({
    version: e.version!,
    rows: e.rows!,
    bytes: e.bytes!,
    executionId: e.id,
    replayed,
  });
  if (execution?.state === 'SUCCESS') return done(execution, true);
  if (execution && execution.state !== 'ACTIVE') throw conflict(`the write with token ${options.token} ended ${execution.state}: ${execution.error ?? ''}`);
  execution ??= await startExecution(stream, { updateMethod: options.method, keyColumnNames: options.keyColumnNames, token: options.token, createdBy: 'engine' });
  const pointer = await getDatasetPointer(streamId);
  const columns = columnsFor(stream, pointer, records);
  if (!datasetSettings(stream).schema && !pointer.schema && columns.length && pointer.version === 0) {
    // A first version written by the engine is named after the records' fields, not col1..colN.
    Object.assign(stream, { faces: { ...stream.faces, domo: { ...(stream.faces?.domo as object), schemaDefinition: { columns: columns.map((name) => ({ name, type: 'STRING' })) } } } });
  }
  const { toCsv } = await import('../blobs/csv.ts');
  const body = toCsv(records.map((record) => columns.map((name) => cell(record[name]))));
  const key = partObjectKey(stream.solutionId, stream.id, execution.id, 1, ulid());
  await putObject(key, body, 'text/csv');
  if (!(await putPart(execution, { partId: 1, key, source: 'inline', bytes: Buffer.byteLength(body), rows: records.length, columns: columns.length || undefined, uploadedAt: new Date().toISOString() }))) {
    throw conflict(`the write with token ${options.token} is no longer ACTIVE`);
  }
  return done(await commitExecutionRecord(stream, execution), false);
}

export interface DatasetOffset {
  version: number;
  /** Rows already read. */
  row: number;
  /** Byte offset of the next row in that version's CSV. */
  byte: number;
}

export interface DatasetRows {
  records: DataRecord[];
  /** Where the next read continues (commit it with the bundle). */
  offset: DatasetOffset;
  bytes: number;
  exhausted: boolean;
}

/**
 * Reads up to `max` rows of the current version after `offset` (the
 * `dataset-source`). Within one version a read resumes at the byte offset (a
 * ranged GET); when the version changed since, it resumes at the same row
 * number of the new version. Records are keyed by the schema's column names.
 */
export async function readDatasetRows(streamId: string, offset: DatasetOffset | undefined, max: number): Promise<DatasetRows> {
  const pointer = await getDatasetPointer(streamId);
  const start = offset ?? { version: pointer.version, row: 0, byte: 0 };
  if (!pointer.version || !pointer.objectKey || start.row >= pointer.rows) {
    return { records: [], offset: { ...start, version: pointer.version, byte: start.version === pointer.version ? start.byte : -1 }, bytes: 0, exhausted: true };
  }
  const sameVersion = start.version === pointer.version && start.byte >= 0;
  const { csvRows } = await import('../blobs/csv.ts');
  const names = (pointer.schema ?? { columns: [] }).columns.map((c) => c.name);
  const records: DataRecord[] = [];
  let row = sameVersion ? start.row : 0;
  let consumed = 0;
  const base = sameVersion ? start.byte : 0;
  const source = await readObject(pointer.objectKey, base);
  for await (const { record, bytes } of csvRows(source, `dataset version ${pointer.version}`)) {
    consumed = bytes;
    if (row++ < start.row) continue;
    records.push(Object.fromEntries(record.map((value, i) => [names[i] ?? `col${i + 1}`, value])));
    if (records.length === max) break;
  }
  source.destroy();
  return {
    records,
    offset: { version: pointer.version, row, byte: base + consumed },
    bytes: consumed,
    exhausted: row >= pointer.rows,
  };
}
