import * as z from 'zod/mini';
import { lazySchema } from '../model/validation.ts';
import { ulid } from 'ulid';
import { conflict, invalid, notFound, unsupportedMediaType } from '../model/errors.ts';
import { assertTransition, UPDATE_METHODS, type UpdateMethod } from '../model/execution.ts';
import { newId } from '../model/ids.ts';
import type { Principal } from '../model/principal.ts';
import { deleteObjects, headObject, partObjectKey, presignPut, putObject, readObject, versionObjectKey, PRESIGN_SECONDS } from '../blobs/objects.ts';
import { flipItems, getDatasetPointer, type DatasetSchema } from '../store/datasets.ts';
import {
  activeExecutionNumber,
  executionNumberOf,
  getExecutionByNumber,
  getPart,
  insertExecution,
  listExecutionRecords,
  listParts,
  nextExecutionNumber,
  putPart,
  transitionExecution,
  updateExecutionFields,
  type ExecutionRecord,
  type PartRecord,
} from '../store/executions.ts';
import type { Page } from '../store/pagination.ts';
import type { StreamRecord } from '../store/streams.ts';
import { getStream } from './streams.ts';

/** `APPEND`, `append`, ... */
export const updateMethod = /* @__PURE__ */ lazySchema(() => z.pipe(z.transform((v) => (typeof v === 'string' ? v.toUpperCase() : v)), z.enum(UPDATE_METHODS)));

export const executionInput = /* @__PURE__ */ lazySchema(() =>
  z.object({
    updateMethod: z.optional(updateMethod()),
    keyColumnNames: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  }),
);
export type ExecutionInput = z.output<ReturnType<typeof executionInput>>;

export type ExecutionRef = { id: string } | { number: number };

export interface DatasetSettings {
  schema: DatasetSchema | null;
  updateMethod: UpdateMethod;
  keyColumnNames?: string[];
}

const schemaShape = /* @__PURE__ */ lazySchema(() => z.object({ columns: z.array(z.object({ name: z.string().check(z.minLength(1)), type: z._default(z.string(), 'STRING') })).check(z.minLength(1)) }));

/**
 * A stream's dataset settings. They are set through the Domo face
 * (`schemaDefinition` or `dataSource.schema`, `updateMethod`,
 * `keyColumnNames`) and kept in `faces.domo`; a stream without them appends
 * and takes its schema from its first committed version.
 */
export function datasetSettings(stream: StreamRecord): DatasetSettings {
  const domo = (stream.faces?.domo ?? {}) as Record<string, any>;
  const declared = schemaShape().safeParse(domo.schemaDefinition ?? domo.dataSource?.schema);
  const method = updateMethod().safeParse(domo.updateMethod);
  return {
    schema: declared.success ? declared.data : null,
    updateMethod: method.success ? method.data : 'APPEND',
    keyColumnNames: Array.isArray(domo.keyColumnNames) ? domo.keyColumnNames : undefined,
  };
}

const label = (execution: ExecutionRecord) => `execution ${execution.number} of stream ${execution.streamId}`;

export async function resolveExecution(stream: StreamRecord, ref: ExecutionRef): Promise<ExecutionRecord> {
  const number = 'number' in ref ? ref.number : await executionNumberOf(stream.id, ref.id);
  const execution = number === undefined || !Number.isSafeInteger(number) ? undefined : await getExecutionByNumber(stream.id, number);
  if (!execution) throw notFound(`execution ${'number' in ref ? ref.number : ref.id} of stream ${stream.id}`);
  return execution;
}

/** Opens an ACTIVE execution on a stream (already authorised); 409 while another one is ACTIVE. */
export async function startExecution(
  stream: StreamRecord,
  input: ExecutionInput & { token?: string; createdBy?: string },
): Promise<ExecutionRecord> {
  const settings = datasetSettings(stream);
  const method = input.updateMethod ?? settings.updateMethod;
  const keyColumnNames = input.keyColumnNames ?? settings.keyColumnNames;
  if (method === 'UPSERT' && !keyColumnNames?.length) throw invalid('UPSERT needs keyColumnNames', [{ path: 'keyColumnNames', message: 'required for UPSERT' }]);
  // Checked first so a refused create does not use up a number (the transaction below is what guarantees it).
  const busy = () => conflict(`stream ${stream.id} already has an ACTIVE execution; commit or abort it first`);
  if ((await activeExecutionNumber(stream.id)) !== undefined) throw busy();
  const now = new Date().toISOString();
  const execution: ExecutionRecord = {
    id: newId('execution'),
    number: await nextExecutionNumber(stream.id),
    streamId: stream.id,
    solutionId: stream.solutionId,
    state: 'ACTIVE',
    updateMethod: method,
    keyColumnNames,
    createdAt: now,
    updatedAt: now,
    token: input.token,
    createdBy: input.createdBy,
  };
  const outcome = await insertExecution(execution);
  if (outcome === 'no-stream') throw notFound(`stream ${stream.id}`);
  if (outcome === 'token-used') throw conflict(`an execution with token ${input.token} already exists`);
  if (outcome === 'busy') throw busy();
  return execution;
}

export async function createExecution(principal: Principal, streamId: string, input: ExecutionInput): Promise<ExecutionRecord> {
  const stream = await getStream(principal, streamId);
  return startExecution(stream, { ...input, createdBy: principal.keyId });
}

export async function getExecution(principal: Principal, streamId: string, ref: ExecutionRef): Promise<ExecutionRecord> {
  return resolveExecution(await getStream(principal, streamId), ref);
}

export async function listExecutions(principal: Principal, streamId: string, limit: number, cursor?: string): Promise<Page<ExecutionRecord>> {
  await getStream(principal, streamId);
  return listExecutionRecords(streamId, limit, cursor);
}

/** Changes an ACTIVE execution's update method (the Domo body override). */
export async function updateExecution(principal: Principal, streamId: string, ref: ExecutionRef, input: ExecutionInput): Promise<ExecutionRecord> {
  const stream = await getStream(principal, streamId);
  const execution = await resolveExecution(stream, ref);
  return overrideMethod(execution, input);
}

async function overrideMethod(execution: ExecutionRecord, input: ExecutionInput): Promise<ExecutionRecord> {
  if (!input.updateMethod && !input.keyColumnNames) return execution;
  assertTransition(execution, 'edit', label(execution));
  const method = input.updateMethod ?? execution.updateMethod;
  const keyColumnNames = input.keyColumnNames ?? execution.keyColumnNames;
  if (method === 'UPSERT' && !keyColumnNames?.length) throw invalid('UPSERT needs keyColumnNames', [{ path: 'keyColumnNames', message: 'required for UPSERT' }]);
  const set = { updateMethod: method, ...(keyColumnNames ? { keyColumnNames } : {}) };
  if (!(await updateExecutionFields(execution, set))) throw conflict(`${label(execution)} changed meanwhile; it is no longer ACTIVE`);
  return { ...execution, ...set };
}

export async function abortExecution(principal: Principal, streamId: string, ref: ExecutionRef): Promise<ExecutionRecord> {
  const stream = await getStream(principal, streamId);
  const execution = await resolveExecution(stream, ref);
  assertTransition(execution, 'abort', label(execution));
  if (!(await transitionExecution(execution, 'abort', { releaseActive: true }))) {
    assertTransition(await resolveExecution(stream, ref), 'abort', label(execution));
    throw conflict(`${label(execution)} changed meanwhile`);
  }
  await deleteObjects((await listParts(execution)).map((part) => part.key));
  return resolveExecution(stream, ref);
}

// ---------------------------------------------------------------- parts

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
  assertTransition(execution, 'edit', label(execution));
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
    assertTransition((await getExecutionByNumber(execution.streamId, execution.number)) ?? execution, 'edit', label(execution));
    throw conflict(`${label(execution)} is no longer accepting parts`);
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
  assertTransition(execution, 'edit', label(execution));
  const key = partObjectKey(stream.solutionId, stream.id, execution.id, partId, ulid());
  const previous = await getPart(execution, partId);
  if (!(await putPart(execution, { partId, key, source: 'presigned', uploadedAt: new Date().toISOString() }))) {
    throw conflict(`${label(execution)} is no longer accepting parts`);
  }
  if (previous) await deleteObjects([previous.key]);
  return { partId, url: await presignPut(key), method: 'PUT', expiresAt: new Date(Date.now() + PRESIGN_SECONDS * 1000).toISOString() };
}

// ---------------------------------------------------------------- commit

/**
 * Commits an ACTIVE execution into the stream's next dataset version:
 * 1. claim the commit on the execution (a second commit gets 409); with one
 *    ACTIVE execution per stream this also makes it the dataset's only writer;
 * 2. stream the previous version and the parts, in partId order, into a new
 *    immutable CSV object;
 * 3. in one transaction: pointer version n → n+1, execution ACTIVE → SUCCESS,
 *    the stream's ACTIVE claim released.
 * Any failure in 2 ends the execution FAILED with the reason and leaves the
 * pointer untouched.
 */
export async function commitExecutionRecord(stream: StreamRecord, execution: ExecutionRecord, override: ExecutionInput = {}): Promise<ExecutionRecord> {
  execution = await overrideMethod(execution, override);
  assertTransition(execution, 'claimCommit', label(execution));
  const token = ulid();
  if (!(await transitionExecution(execution, 'claimCommit', { token }))) {
    const now = (await getExecutionByNumber(stream.id, execution.number)) ?? execution;
    assertTransition(now, 'claimCommit', label(execution));
    throw conflict(`${label(execution)} is being committed`);
  }
  const claimed = { ...execution, commitToken: token };
  const previous = await getDatasetPointer(stream.id);
  const parts = await listParts(execution);
  const version = previous.version + 1;
  const objectKey = versionObjectKey(stream.solutionId, stream.id, version, token);
  let result;
  try {
    for (const part of parts) {
      if (part.source === 'presigned' && !(await headObject(part.key))) throw invalid(`part ${part.partId} was never uploaded to its presigned URL`);
    }
    const { assembleVersion } = await import('./dataset-assembly.ts');
    result = await assembleVersion({
      previous,
      parts: parts.map((part) => ({
        label: `part ${part.partId}`,
        open: () => readObject(part.key),
        validated: part.source === 'inline' && part.rows !== undefined ? { rows: part.rows, columns: part.columns } : undefined,
      })),
      method: execution.updateMethod,
      keyColumnNames: execution.keyColumnNames,
      // An engine write names a first version's columns after its records' fields.
      declaredSchema: datasetSettings(stream).schema ?? (execution.columns ? { columns: execution.columns.map((name) => ({ name, type: 'STRING' })) } : null),
      objectKey,
    });
  } catch (error) {
    const reason = (error as Error).message ?? String(error);
    await transitionExecution(claimed, 'fail', { token, set: { error: reason }, releaseActive: true });
    await deleteObjects([objectKey]);
    if (error instanceof Error && 'code' in error && (error as { code: string }).code === 'invalid_request') {
      throw invalid(`the commit failed and ${label(execution)} is FAILED: ${reason}`, (error as { details?: [] }).details);
    }
    throw error;
  }
  const updatedAt = new Date().toISOString();
  const next = { version, objectKey, rows: result.rows, bytes: result.bytes, schema: result.schema, updatedAt, updateMethod: execution.updateMethod, executionId: execution.id };
  const flipped = await transitionExecution(claimed, 'commit', {
    token,
    set: { version, rows: result.rows, bytes: result.bytes },
    releaseActive: true,
    with: flipItems(stream.id, previous.version, next),
  });
  if (!flipped) {
    await deleteObjects([objectKey]);
    throw conflict(`${label(execution)} could not be committed: it or the dataset changed meanwhile`);
  }
  await deleteObjects(parts.map((part) => part.key));
  return { ...execution, state: 'SUCCESS', updatedAt, endedAt: updatedAt, version, rows: result.rows, bytes: result.bytes };
}

export async function commitExecution(principal: Principal, streamId: string, ref: ExecutionRef, override: ExecutionInput = {}): Promise<ExecutionRecord> {
  const stream = await getStream(principal, streamId);
  return commitExecutionRecord(stream, await resolveExecution(stream, ref), override);
}

export { listParts };
