import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Definition } from '../model/definition.ts';
import { conflict, invalid, notFound, unavailable } from '../model/errors.ts';
import { newId } from '../model/ids.ts';
import { isAdmin, type Principal } from '../model/principal.ts';
import { allows, isTerminal, refusalMessage, resumeTransition, type EndStatus, type RunStatus } from '../model/run-lifecycle.ts';
import { ddb, tableName } from '../store/client.ts';
import type { Page } from '../store/pagination.ts';
import { getStreamRecord, type StreamRecord } from '../store/streams.ts';
import {
  getRunRecord,
  getStreamOffsets,
  insertRun,
  listRunRecords,
  transitionRun,
  type RunError,
  type RunRecord,
  type RunTrigger,
} from '../store/runs.ts';
import { parseTestHooks } from '../engine/test-hooks.ts';
import { executionName, executionStatus, runStateMachineArn, sendTaskFailure, sendTaskSuccess, startRunExecution } from '../workflows/sfn.ts';
import { getStream } from './streams.ts';
import { logger } from '../http/logger.ts';

/**
 * Runs: start, pause, resume, stop. Callers only ever change `desiredStatus`
 * (or, for resume, answer the parked task token); the engine observes and
 * writes `status`. Every change is one conditional write from the transition
 * table in model/run-lifecycle.ts.
 */

/** A stream's runnable definition: the deployed tag's, else the autosaved one. */
export async function runnableVersion(stream: StreamRecord): Promise<{ version: string; definition: Definition }> {
  if (stream.deployment?.phase === 'deployed') {
    const tag = await ddb.send(
      new GetCommand({ TableName: tableName(), Key: { PK: `STM#${stream.id}`, SK: `TAG#${stream.deployment.version}` }, ConsistentRead: true }),
    );
    if (tag.Item?.definition) return { version: stream.deployment.version, definition: tag.Item.definition as Definition };
  }
  return { version: 'autosave', definition: stream.definition };
}

export interface StartOptions {
  trigger?: RunTrigger;
  /** Marks the run as started through a compatibility face (RunRecord.face). */
  face?: RunRecord['face'];
  /** Schedule fires: the fire time; a second delivery of the same fire starts nothing. */
  fireTime?: string;
  groupRunId?: string;
  /** Answered when the run ends (group runs). */
  callbackToken?: string;
  /** Run exactly this version and definition instead of resolving them now (a group run pins them at Prepare). */
  pinned?: { version: string; definition: Definition };
  /**
   * More writes for the run's insert transaction (a group run's start marker and its
   * conditions); when one fails, the start fails as a conflict and the caller looks why.
   */
  transactionItems?: (run: RunRecord) => Record<string, unknown>[];
}

export type StartOutcome = { run: RunRecord; duplicate?: false } | { run?: RunRecord; duplicate: true };

/** Starts a run of a stream the caller may see (404 otherwise). 409 while another run is active. */
export async function startRun(principal: Principal, streamId: string, options: StartOptions = {}): Promise<RunRecord> {
  const stream = await getStream(principal, streamId);
  const outcome = await startRunOf(stream, options);
  return outcome.run!;
}

/** Starts a run of a stream already read (the scheduled trigger has no principal). */
export async function startRunOf(stream: StreamRecord, options: StartOptions = {}): Promise<StartOutcome> {
  const { version, definition } = options.pinned ?? (await runnableVersion(stream));
  if (!definition.nodes.some((n) => ['http-collector', 'dataset-source', 'table-source', 's3-source'].includes(n.type))) {
    throw invalid(`stream ${stream.id} (${version}) has no source node; there is nothing to run`);
  }
  runStateMachineArn(); // fail before writing anything when the state machine is not configured
  const now = new Date().toISOString();
  const run: RunRecord = {
    id: newId('run'),
    streamId: stream.id,
    solutionId: stream.solutionId,
    version,
    executionId: randomUUID(),
    trigger: options.trigger ?? 'api',
    face: options.face,
    status: 'running',
    desiredStatus: 'running',
    startedAt: now,
    endedAt: null,
    updatedAt: now,
    definition,
    checkpoint: { bundle: 0, offsets: (await getStreamOffsets(stream.id)).offsets },
    stats: [],
    processed: 0,
    error: null,
    recentErrors: [],
    fireTime: options.fireTime,
    groupRunId: options.groupRunId,
    callbackToken: options.callbackToken,
    testHooks: parseTestHooks(stream.description),
  };
  const fireMarker = options.fireTime
    ? [
        {
          Put: {
            TableName: tableName(),
            Item: {
              PK: `STM#${stream.id}`,
              SK: `FIRE#${options.fireTime}`,
              type: 'schedule-fire',
              runId: run.id,
              // Fire markers only need to outlive a redelivery.
              expiresAt: Math.floor(Date.now() / 1000) + 7 * 24 * 3600,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
      ]
    : [];
  const inserted = await insertRun(run, [...fireMarker, ...(options.transactionItems?.(run) ?? [])]);
  if (!inserted.ok) {
    if (options.fireTime) {
      const marker = await ddb.send(new GetCommand({ TableName: tableName(), Key: { PK: `STM#${stream.id}`, SK: `FIRE#${options.fireTime}` } }));
      if (marker.Item) return { duplicate: true, run: await getRunRecord(marker.Item.runId) };
    }
    const current = await getStreamRecord(stream.id);
    throw conflict(`stream ${stream.id} already has an active run ${current?.activeRun?.id ?? ''} (${current?.activeRun?.status ?? 'running'}); stop it first`);
  }
  try {
    run.executionArn = await startRunExecution({ runId: run.id, iteration: 0, generation: 0, executionId: run.executionId, idleStreak: 0 });
  } catch (error) {
    await logger.error('could not start the run execution', error as Error);
    await endRun(run, 'failed', { code: 'start_failed', message: `the run could not start: ${(error as Error).message}` });
    throw unavailable('the run could not be started; try again');
  }
  return { run };
}

/** Reads a run of the caller's solution; another solution's run does not exist for it. */
export async function getRun(principal: Principal, id: string): Promise<RunRecord> {
  const run = await getRunRecord(id);
  if (!run || (run.solutionId !== principal.solutionId && !isAdmin(principal))) throw notFound(`run ${id}`);
  return run;
}

export async function listRuns(principal: Principal, streamId: string, limit: number, cursor?: string): Promise<Page<RunRecord>> {
  await getStream(principal, streamId);
  return listRunRecords(streamId, limit, cursor);
}

/** After a caller's request, give the engine a moment to reach the state asked for, so the answer usually shows it. */
async function settle(run: RunRecord, reached: (r: RunRecord) => boolean, ms = 4000): Promise<RunRecord> {
  const until = Date.now() + ms;
  let current = run;
  while (!reached(current) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    current = (await getRunRecord(run.id)) ?? current;
  }
  return current;
}

async function refuse(transition: Parameters<typeof refusalMessage>[0], id: string): Promise<never> {
  const fresh = await getRunRecord(id);
  throw conflict(refusalMessage(transition, fresh ?? { id, status: 'failed', desiredStatus: 'stopped' }));
}

export async function pauseRun(principal: Principal, id: string): Promise<RunRecord> {
  return pauseRunRecord(await getRun(principal, id));
}

/** Pauses a run already read (and checked by the caller). */
export async function pauseRunRecord(run: RunRecord): Promise<RunRecord> {
  const { id } = run;
  if (run.status === 'running' && run.desiredStatus === 'paused') return settle(run, (r) => r.status !== 'running');
  if (!allows('pause', run)) throw conflict(refusalMessage('pause', run));
  if (!(await transitionRun(run, 'pause'))) await refuse('pause', id);
  return settle(run, (r) => r.status !== 'running');
}

export async function resumeRun(principal: Principal, id: string): Promise<RunRecord> {
  return resumeRunRecord(await getRun(principal, id));
}

/** Resumes a run already read (and checked by the caller). */
export async function resumeRunRecord(run: RunRecord): Promise<RunRecord> {
  const { id } = run;
  const transition = resumeTransition(run);
  if (!allows(transition, run)) throw conflict(refusalMessage('resume', run));
  if (transition === 'cancelPause') {
    if (!(await transitionRun(run, 'cancelPause'))) await refuse('resume', id);
    return (await getRunRecord(id))!;
  }
  const token = run.taskToken;
  if (!token) throw conflict(`run ${id} is still parking; try again in a moment`);
  // The token stays on the run until it ends or parks again: should this call die before
  // SendTaskSuccess, a later stop sends it again (a used token is refused harmlessly).
  // The token names this pause, so its length is added once, whoever races.
  const pausedFor = run.pausedAt ? Math.max(0, Date.now() - Date.parse(run.pausedAt)) : 0;
  const moved = await transitionRun(run, 'resume', {
    set: { pausedMs: (run.pausedMs ?? 0) + pausedFor },
    remove: ['pausedAt'],
    condition: { expression: 'taskToken = :token', values: { ':token': token } },
    streamActiveRun: { id: run.id, status: 'running' },
  });
  if (!moved) await refuse('resume', id);
  if (!(await sendTaskSuccess(token, { resumed: true }))) {
    await endRun(run, 'failed', { code: 'execution_lost', message: 'the run execution ended while the run was paused' });
  }
  return (await getRunRecord(id))!;
}

export async function stopRun(principal: Principal, id: string): Promise<RunRecord> {
  const run = await getRun(principal, id);
  return stopRunRecord(run);
}

export async function stopRunRecord(run: RunRecord): Promise<RunRecord> {
  const ended = (r: RunRecord) => isTerminal(r.status);
  if (!isTerminal(run.status) && run.desiredStatus === 'stopped') return settle(run, ended);
  if (!allows('stop', run)) throw conflict(refusalMessage('stop', run));
  if (!(await transitionRun(run, 'stop'))) await refuse('stop', run.id);
  // A parked run wakes up to see the stop; a running one sees it at its next bundle boundary.
  if (run.taskToken) await sendTaskSuccess(run.taskToken, { stopped: true });
  // An execution that is gone (failed outside the state machine's Catch, or lost with a
  // local runtime restart) cannot end the run itself: end it here.
  const execution = run.executionArn ? await executionStatus(run.executionArn) : 'RUNNING';
  if (execution === undefined || ['FAILED', 'ABORTED', 'TIMED_OUT'].includes(execution)) await endRun(run, 'stopped');
  return settle(run, ended);
}

export async function stopStream(principal: Principal, streamId: string): Promise<RunRecord> {
  const stream = await getStream(principal, streamId);
  if (!stream.activeRun) throw conflict(`stream ${streamId} has no active run`);
  const run = await getRunRecord(stream.activeRun.id);
  if (!run) throw conflict(`stream ${streamId} has no active run`);
  return stopRunRecord(run);
}

/**
 * Ends a run (RecordEnd, RecordFailure, or a caller finding its execution
 * gone): one conditional write from running/paused, freeing the stream's
 * active-run slot in the same transaction, then answering a waiting group.
 * Idempotent: a run already ended stays as it is, and its group is answered again.
 */
export async function endRun(run: Pick<RunRecord, 'id' | 'streamId'>, status: EndStatus, error?: RunError): Promise<boolean> {
  const set: Record<string, unknown> = { status, endedAt: new Date().toISOString() };
  if (error) set.error = error;
  const transition = status === 'failed' ? 'fail' : 'end';
  const moved = await transitionRun(run, transition, { set, remove: ['taskToken'], streamActiveRun: null });
  // Answered whoever ended it: a retried RecordEnd whose first attempt died after the write must still wake the group.
  // A token already answered is refused harmlessly.
  const ended = await getRunRecord(run.id);
  if (ended?.callbackToken && isTerminal(ended.status)) {
    if (ended.status === 'failed') await sendTaskFailure(ended.callbackToken, ended.error?.code ?? 'RunFailed', ended.error?.message ?? 'the run failed');
    else await sendTaskSuccess(ended.callbackToken, { runId: run.id, status: ended.status });
  }
  return moved;
}

/** Continue-as-new: the next execution name of a run. */
export const nextExecutionName = (run: RunRecord, generation: number) => executionName(run.executionId, generation);

export type { RunStatus };
