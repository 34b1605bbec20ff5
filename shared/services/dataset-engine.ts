import { ulid } from 'ulid';
import { deleteObjects, partObjectKey, putObject, readObject } from '../blobs/objects.ts';
import type { DataRecord } from '../engine/types.ts';
import { conflict, notFound } from '../model/errors.ts';
import type { UpdateMethod } from '../model/execution.ts';
import { getDatasetPointer, type DatasetPointer } from '../store/datasets.ts';
import { executionNumberOfToken, getExecutionByNumber, listParts, putPart, transitionExecution, updateExecutionFields, type ExecutionRecord } from '../store/executions.ts';
import { getStreamRecord, type StreamRecord } from '../store/streams.ts';
import { commitExecutionRecord } from './execution-commit.ts';
import { datasetSettings, startExecution } from './executions.ts';

/**
 * The run engine's entry points into datasets: the `dataset` sink's
 * token-idempotent writes (open, write parts, commit, abort) and the
 * `dataset-source`'s resumable reads.
 */

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

export interface DatasetWriteOptions {
  method: UpdateMethod;
  keyColumnNames?: string[];
  /** Caller-chosen idempotency token, e.g. a run id (`run_…`) or `${runId}/${bundle}`. */
  token: string;
}

export interface DatasetWriteResult {
  version: number;
  rows: number;
  bytes: number;
  executionId: string;
  /** True when this token had already been committed. */
  replayed: boolean;
}

/** The execution a token names, if any. */
async function executionOfToken(streamId: string, token: string): Promise<ExecutionRecord | undefined> {
  const number = await executionNumberOfToken(streamId, token);
  return number === undefined ? undefined : getExecutionByNumber(streamId, number);
}

const resultOf = (execution: ExecutionRecord, replayed: boolean): DatasetWriteResult => ({
  version: execution.version!,
  rows: execution.rows!,
  bytes: execution.bytes!,
  executionId: execution.id,
  replayed,
});

/**
 * Opens (or finds again) the ACTIVE execution a token names: the start of a
 * run-sized write by the `dataset` sink. Idempotent: the same token answers
 * the same execution. 409 while a client holds the stream's ACTIVE execution,
 * or when the token's write already ended other than SUCCESS.
 */
export async function openDatasetWrite(streamId: string, options: DatasetWriteOptions): Promise<{ executionId: string; state: ExecutionRecord['state'] }> {
  const stream = await streamFor(streamId);
  let execution = await executionOfToken(streamId, options.token);
  if (execution && execution.state !== 'ACTIVE' && execution.state !== 'SUCCESS') {
    throw conflict(`the dataset write ${options.token} ended ${execution.state}${execution.error ? `: ${execution.error}` : ''}`);
  }
  execution ??= await startExecution(stream, { updateMethod: options.method, keyColumnNames: options.keyColumnNames, token: options.token, createdBy: 'engine' });
  return { executionId: execution.id, state: execution.state };
}

/**
 * Stores records as part `partId` of the token's write (use the bundle
 * number: a retried bundle replaces its part, so nothing is duplicated).
 * Columns are the dataset's schema, else those fixed by the write's first
 * part, else the records' fields in order of first appearance; values are
 * text (objects as JSON, null/undefined as empty).
 */
export async function writeDatasetRows(streamId: string, token: string, partId: number, records: DataRecord[]): Promise<{ rows: number; bytes: number }> {
  const stream = await streamFor(streamId);
  const execution = await executionOfToken(streamId, token);
  if (!execution) throw notFound(`dataset write ${token} of stream ${streamId}`);
  if (execution.state !== 'ACTIVE') throw conflict(`the dataset write ${token} is ${execution.state}`);
  let columns = execution.columns;
  if (!columns) {
    columns = columnsFor(stream, await getDatasetPointer(streamId), records);
    // Fixed by the first part written, so later bundles line up with it.
    if (columns.length && !(await updateExecutionFields(execution, { columns }))) throw conflict(`the dataset write ${token} is no longer ACTIVE`);
  }
  const { toCsv } = await import('../blobs/csv.ts');
  const body = toCsv(records.map((record) => columns.map((name) => cell(record[name]))));
  const key = partObjectKey(stream.solutionId, stream.id, execution.id, partId, ulid());
  await putObject(key, body, 'text/csv');
  const part = { partId, key, source: 'inline' as const, bytes: Buffer.byteLength(body), rows: records.length, columns: columns.length || undefined, uploadedAt: new Date().toISOString() };
  if (!(await putPart({ ...execution, columns }, part))) throw conflict(`the dataset write ${token} is no longer ACTIVE`);
  return { rows: records.length, bytes: part.bytes };
}

/** Commits the token's write into the next dataset version; a repeat answers the first result (`replayed`). */
export async function commitDatasetWrite(streamId: string, token: string): Promise<DatasetWriteResult> {
  const stream = await streamFor(streamId);
  const execution = await executionOfToken(streamId, token);
  if (!execution) throw notFound(`dataset write ${token} of stream ${streamId}`);
  if (execution.state === 'SUCCESS') return resultOf(execution, true);
  return resultOf(await commitExecutionRecord(stream, execution), false);
}

/** Abandons the token's write (a failed or stopped run); the dataset is unchanged. */
export async function abortDatasetWrite(streamId: string, token: string): Promise<void> {
  const execution = await executionOfToken(streamId, token);
  if (!execution || execution.state !== 'ACTIVE') return;
  if (await transitionExecution(execution, 'abort', { releaseActive: true })) await deleteObjects((await listParts(execution)).map((part) => part.key));
}

/**
 * One-shot write: the records become the next version, exactly once per
 * token (open + part 1 + commit). Every call makes a version and an APPEND
 * copies the previous one, so a sink should use it per run, not per small
 * bundle; for run-sized writes use open/write/commit above.
 */
export async function commitRows(streamId: string, records: DataRecord[], options: DatasetWriteOptions): Promise<DatasetWriteResult> {
  const opened = await openDatasetWrite(streamId, options);
  if (opened.state === 'ACTIVE') await writeDatasetRows(streamId, options.token, 1, records);
  return commitDatasetWrite(streamId, options.token);
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
