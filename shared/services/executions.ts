import * as z from 'zod/mini';
import { lazySchema } from '../model/validation.ts';
import { conflict, invalid, notFound } from '../model/errors.ts';
import { assertTransition, UPDATE_METHODS, type UpdateMethod } from '../model/execution.ts';
import { newId } from '../model/ids.ts';
import type { Principal } from '../model/principal.ts';
import type { DatasetSchema } from '../store/datasets.ts';
import {
  activeExecutionNumber,
  executionNumberOf,
  getExecutionByNumber,
  insertExecution,
  listExecutionRecords,
  nextExecutionNumber,
  updateExecutionFields,
  type ExecutionRecord,
} from '../store/executions.ts';
import type { Page } from '../store/pagination.ts';
import type { StreamRecord } from '../store/streams.ts';
import { getStream } from './streams.ts';

/**
 * Executions in DynamoDB: opening, reading, listing and editing them. What
 * touches their objects in S3 lives apart (execution-parts.ts: parts and
 * abort; execution-commit.ts: commit), so handlers that only read or open
 * executions do not carry the S3 client.
 */

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

export const executionLabel = (execution: ExecutionRecord) => `execution ${execution.number} of stream ${execution.streamId}`;

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

/** Applies a body's updateMethod/keyColumnNames to an ACTIVE execution (update, and commit's override). */
export async function overrideMethod(execution: ExecutionRecord, input: ExecutionInput): Promise<ExecutionRecord> {
  if (!input.updateMethod && !input.keyColumnNames) return execution;
  assertTransition(execution, 'edit', executionLabel(execution));
  const method = input.updateMethod ?? execution.updateMethod;
  const keyColumnNames = input.keyColumnNames ?? execution.keyColumnNames;
  if (method === 'UPSERT' && !keyColumnNames?.length) throw invalid('UPSERT needs keyColumnNames', [{ path: 'keyColumnNames', message: 'required for UPSERT' }]);
  const set = { updateMethod: method, ...(keyColumnNames ? { keyColumnNames } : {}) };
  if (!(await updateExecutionFields(execution, set))) throw conflict(`${executionLabel(execution)} changed meanwhile; it is no longer ACTIVE`);
  return { ...execution, ...set };
}
