import { ulid } from 'ulid';
import { conflict, invalid, isSluiceError } from '../model/errors.ts';
import { assertTransition } from '../model/execution.ts';
import type { Principal } from '../model/principal.ts';
import { deleteObjects, headObject, readObject, versionObjectKey } from '../blobs/objects.ts';
import { flipItems, getDatasetPointer } from '../store/datasets.ts';
import { getExecutionByNumber, listParts, transitionExecution, type ExecutionRecord } from '../store/executions.ts';
import type { StreamRecord } from '../store/streams.ts';
import { datasetSettings, executionLabel, overrideMethod, resolveExecution, type ExecutionInput, type ExecutionRef } from './executions.ts';
import { getStream } from './streams.ts';

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
  assertTransition(execution, 'claimCommit', executionLabel(execution));
  const token = ulid();
  if (!(await transitionExecution(execution, 'claimCommit', { token }))) {
    const now = (await getExecutionByNumber(stream.id, execution.number)) ?? execution;
    assertTransition(now, 'claimCommit', executionLabel(execution));
    throw conflict(`${executionLabel(execution)} is being committed`);
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
    if (isSluiceError(error) && error.code === 'invalid_request') {
      throw invalid(`the commit failed and ${executionLabel(execution)} is FAILED: ${reason}`, error.details);
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
    throw conflict(`${executionLabel(execution)} could not be committed: it or the dataset changed meanwhile`);
  }
  await deleteObjects(parts.map((part) => part.key));
  return { ...execution, state: 'SUCCESS', updatedAt, endedAt: updatedAt, version, rows: result.rows, bytes: result.bytes };
}

export async function commitExecution(principal: Principal, streamId: string, ref: ExecutionRef, override: ExecutionInput = {}): Promise<ExecutionRecord> {
  const stream = await getStream(principal, streamId);
  return commitExecutionRecord(stream, await resolveExecution(stream, ref), override);
}
