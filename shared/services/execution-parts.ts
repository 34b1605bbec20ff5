import { ulid } from 'ulid';
import { conflict, invalid, unsupportedMediaType } from '../model/errors.ts';
import { assertTransition } from '../model/execution.ts';
import type { Principal } from '../model/principal.ts';
import { deleteObjects, partObjectKey, presignPut, putObject, PRESIGN_SECONDS } from '../blobs/objects.ts';
import { getDatasetPointer } from '../store/datasets.ts';
import { getExecutionByNumber, getPart, listParts, putPart, transitionExecution, type ExecutionRecord, type PartRecord } from '../store/executions.ts';
import type { StreamRecord } from '../store/streams.ts';
import { datasetSettings, executionLabel, resolveExecution, type ExecutionRef } from './executions.ts';
import { getStream } from './streams.ts';

/** An execution's parts: inline uploads, presigned uploads, and dropping them all on abort. */

const CSV_TYPES = /^(text\/csv|text\/plain|application\/csv|application\/octet-stream)\b/i;
const GZIP_TYPES = /^application\/(x-)?gzip\b/i;

export function parsePartId(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw invalid(`part id ${raw} is not an integer of at least 1`, [{ path: 'partId', message: 'an integer >= 1' }]);
  }
  return Number(raw);
}

/** The column count a part must have: the declared schema's, else the current version's; undefined when neither exists yet. */
async function expectedColumns(stream: StreamRecord): Promise<number | undefined> {
  const declared = datasetSettings(stream).schema;
  if (declared) return declared.columns.length;
  return (await getDatasetPointer(stream.id)).schema?.columns.length;
}

export interface PartBody {
  body: Buffer;
  contentType?: string;
  contentEncoding?: string;
}

/** Stores an inline part (headerless CSV, maybe gzip) after validating it; a re-upload replaces the part. */
export async function storePart(stream: StreamRecord, execution: ExecutionRecord, partId: number, input: PartBody): Promise<PartRecord> {
  assertTransition(execution, 'edit', executionLabel(execution));
  const contentType = input.contentType?.trim() ?? '';
  const gzip = /\bgzip\b/i.test(input.contentEncoding ?? '') || GZIP_TYPES.test(contentType);
  if (contentType && !gzip && !CSV_TYPES.test(contentType)) throw unsupportedMediaType(`parts are headerless CSV (text/csv, optionally gzip); not ${contentType}`);
  if (input.contentEncoding && !/^\s*(gzip|identity)\s*$/i.test(input.contentEncoding)) {
    throw unsupportedMediaType(`Content-Encoding ${input.contentEncoding} is not supported; use gzip`);
  }
  // The CSV machinery is loaded on first use, so handlers that never parse start faster.
  const { gunzipPart, validateCsv } = await import('../blobs/csv.ts');
  const csv = gzip ? gunzipPart(input.body) : input.body;
  const { rows, columns } = await validateCsv(csv, `part ${partId}`, await expectedColumns(stream));
  const key = partObjectKey(stream.solutionId, stream.id, execution.id, partId, ulid());
  await putObject(key, input.body, gzip ? 'application/gzip' : 'text/csv');
  const previous = await getPart(execution, partId);
  const part: PartRecord = { partId, key, source: 'inline', bytes: input.body.length, rows, columns, uploadedAt: new Date().toISOString() };
  if (!(await putPart(execution, part))) {
    await deleteObjects([key]);
    assertTransition((await getExecutionByNumber(execution.streamId, execution.number)) ?? execution, 'edit', executionLabel(execution));
    throw conflict(`${executionLabel(execution)} is no longer accepting parts`);
  }
  if (previous && previous.key !== key) await deleteObjects([previous.key]);
  return part;
}

export async function uploadPart(principal: Principal, streamId: string, ref: ExecutionRef, partId: number, input: PartBody): Promise<PartRecord> {
  const stream = await getStream(principal, streamId);
  return storePart(stream, await resolveExecution(stream, ref), partId, input);
}

/** A presigned PUT for a large part; commit verifies what arrived (HeadObject, then the full parse). */
export async function partUploadUrl(
  principal: Principal,
  streamId: string,
  ref: ExecutionRef,
  partId: number,
): Promise<{ partId: number; url: string; method: 'PUT'; expiresAt: string }> {
  const stream = await getStream(principal, streamId);
  const execution = await resolveExecution(stream, ref);
  assertTransition(execution, 'edit', executionLabel(execution));
  const key = partObjectKey(stream.solutionId, stream.id, execution.id, partId, ulid());
  const previous = await getPart(execution, partId);
  if (!(await putPart(execution, { partId, key, source: 'presigned', uploadedAt: new Date().toISOString() }))) {
    throw conflict(`${executionLabel(execution)} is no longer accepting parts`);
  }
  if (previous) await deleteObjects([previous.key]);
  return { partId, url: await presignPut(key), method: 'PUT', expiresAt: new Date(Date.now() + PRESIGN_SECONDS * 1000).toISOString() };
}

/** Ends an ACTIVE execution ABORTED and deletes the objects of its parts; the dataset is unchanged. */
export async function abortExecution(principal: Principal, streamId: string, ref: ExecutionRef): Promise<ExecutionRecord> {
  const stream = await getStream(principal, streamId);
  const execution = await resolveExecution(stream, ref);
  assertTransition(execution, 'abort', executionLabel(execution));
  if (!(await transitionExecution(execution, 'abort', { releaseActive: true }))) {
    assertTransition(await resolveExecution(stream, ref), 'abort', executionLabel(execution));
    throw conflict(`${executionLabel(execution)} changed meanwhile`);
  }
  await deleteObjects((await listParts(execution)).map((part) => part.key));
  return resolveExecution(stream, ref);
}
