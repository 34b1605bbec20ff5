import { isSource, validateDefinition, type Definition } from '../model/definition.ts';
import { conflict, isSluiceError, notFound, unavailable, type ErrorDetail } from '../model/errors.ts';
import {
  allowsGroupRun,
  GROUP_RUN_TRANSITIONS,
  groupRunRefusal,
  STREAM_DONE_STATUSES,
  type GroupRunTransition,
} from '../model/group-run-lifecycle.ts';
import { newId } from '../model/ids.ts';
import { isAdmin, type Principal } from '../model/principal.ts';
import { isTerminal } from '../model/run-lifecycle.ts';
import { classify } from '../engine/errors.ts';
import { parseGroupTestHooks } from '../engine/test-hooks.ts';
import { logger } from '../http/logger.ts';
import {
  getGroupRunRecord,
  getPin,
  groupRunOfFire,
  groupStartWrites,
  insertGroupRun,
  listGroupRunRecords,
  putPin,
  setGroupRunFields,
  startMarkerRun,
  transitionGroupRun,
  type GroupRunError,
  type GroupRunRecord,
  type GroupRunWrite,
  type PinnedStream,
} from '../store/group-runs.ts';
import type { GroupRecord } from '../store/groups.ts';
import type { Page } from '../store/pagination.ts';
import { getRunRecord, replaceCallbackToken, type RunRecord } from '../store/runs.ts';
import { getStreamRecord } from '../store/streams.ts';
import { sendTaskFailure, sendTaskSuccess } from '../workflows/sfn.ts';
import { groupStateMachineArn, startGroupExecution, stopExecution } from '../workflows/group-sfn.ts';
import { getGroup } from './groups.ts';
import { runnableVersion, startRunOf, stopRunRecord } from './runs.ts';

/**
 * Group runs: a group's streams one after another on Step Functions
 * (infra/statemachines/group.asl.json), with a checkpoint after each stream,
 * stop and resume. The API side is start/stop/resume/get/list; the workflow
 * side is one function per task state (functions/workflows/group-*.ts).
 * docs/groups.md has the item layout and the lifecycle.
 */

// ---------------------------------------------------------------- API side

export async function getGroupRun(principal: Principal, id: string): Promise<GroupRunRecord> {
  const run = await getGroupRunRecord(id);
  if (!run || (run.solutionId !== principal.solutionId && !isAdmin(principal))) throw notFound(`group run ${id}`);
  return run;
}

export async function listGroupRuns(principal: Principal, groupId: string, limit: number, cursor?: string): Promise<Page<GroupRunRecord>> {
  await getGroup(principal, groupId);
  return listGroupRunRecords(groupId, limit, cursor);
}

export async function startGroup(principal: Principal, groupId: string): Promise<GroupRunRecord> {
  const group = await getGroup(principal, groupId);
  return (await startGroupOf(group, { trigger: 'api' })).run!;
}

export type GroupStartOutcome = { run: GroupRunRecord; duplicate?: false } | { run?: GroupRunRecord; duplicate: true };

/** Starts a group run (API or a schedule fire): claims the group, then starts the execution of attempt 1. */
export async function startGroupOf(group: GroupRecord, options: { trigger: 'api' | 'schedule'; fireTime?: string }, staleClaims = 0): Promise<GroupStartOutcome> {
  groupStateMachineArn(); // fail before writing anything when the state machine is not configured
  // Deleting a group's last stream leaves it empty (docs/groups.md "Stream delete"); a PUT gives it streams again.
  if (!group.streams.length) throw conflict(`stream group ${group.id} has no streams (they were deleted); PUT the group with streams before starting it`);
  const now = new Date().toISOString();
  const run: GroupRunRecord = {
    id: newId('groupRun'),
    groupId: group.id,
    solutionId: group.solutionId,
    trigger: options.trigger,
    fireTime: options.fireTime,
    status: 'preparing',
    streams: [...group.streams],
    position: 0,
    completedStreams: [],
    currentRunId: null,
    streamRuns: {},
    versions: {},
    checkpoint: null,
    attempt: 1,
    executionArn: null,
    startedAt: now,
    endedAt: null,
    updatedAt: now,
    error: null,
  };
  const claim = await insertGroupRun(run, group.revision);
  // The group changed between the read and the claim: start from what it is now (as the failed claim read it).
  if (claim.outcome === 'stale') {
    if (staleClaims >= 4) throw conflict(`stream group ${group.id} is being changed by others; try again`);
    return startGroupOf(claim.group, options, staleClaims + 1);
  }
  if (claim.outcome === 'fired') {
    const id = await groupRunOfFire(group.id, options.fireTime!);
    return { duplicate: true, run: id ? await getGroupRunRecord(id) : undefined };
  }
  if (claim.outcome === 'gone') throw notFound(`stream group ${group.id}`);
  if (claim.outcome === 'busy') {
    const active = claim.group.activeGroupRun!;
    throw conflict(`stream group ${group.id} is running (${active.id}, ${active.status}); stop it first`);
  }
  return { run: await launch(run, group) };
}

/** Starts the execution of the run's current attempt; a failure to start fails the attempt (503). */
async function launch(run: GroupRunRecord, group: GroupRecord): Promise<GroupRunRecord> {
  try {
    const executionArn = await startGroupExecution({ groupRunId: run.id, attempt: run.attempt }, parseGroupTestHooks(group.description));
    // The run as it is after this write (the workflow may already have moved it on).
    return await setGroupRunFields(run.id, { executionArn });
  } catch (error) {
    await logger.error('could not start the group execution', error as Error);
    await transitionGroupRun(run, 'fail', {
      attempt: run.attempt,
      set: { endedAt: new Date().toISOString(), error: { code: 'start_failed', message: `the group run could not start: ${(error as Error).message}` } },
    });
    throw unavailable('the group run could not be started; try again');
  }
}

/**
 * Stops the group run: the run moves to `stopped` first (so no workflow step
 * starts another stream), then its execution is stopped and the stream run in
 * progress is asked to stop (at its next bundle boundary, keeping its own
 * checkpoint). The group run's checkpoint stays where it was.
 */
export async function stopGroup(principal: Principal, groupId: string): Promise<GroupRunRecord> {
  const group = await getGroup(principal, groupId);
  if (!group.activeGroupRun) throw conflict(`stream group ${group.id} is not running`);
  // The group's slot names the run; the conditional stop is the check that it is still preparing or running.
  const run = { id: group.activeGroupRun.id, groupId: group.id };
  if (!(await transitionGroupRun(run, 'stop', { set: { endedAt: new Date().toISOString() } }))) {
    const fresh = await getGroupRunRecord(run.id);
    throw conflict(fresh ? groupRunRefusal('stop', fresh) : `stream group ${group.id} is not running`);
  }
  // Read after the stop: from here no StartStream can start a run (its insert is conditioned on `running`), so currentRunId is final.
  const stopped = (await getGroupRunRecord(run.id))!;
  if (stopped.executionArn) await stopExecution(stopped.executionArn, 'the group run was stopped (POST /v1/stream-groups/{id}/stop)');
  if (stopped.currentRunId) await stopStreamRun(stopped.currentRunId);
  return stopped;
}

/** Asks a stream run to stop and waits a moment for it (runs.ts settles up to a few seconds); an ended run is fine. */
async function stopStreamRun(runId: string): Promise<void> {
  const streamRun = await getRunRecord(runId);
  if (!streamRun || isTerminal(streamRun.status)) return;
  try {
    await stopRunRecord(streamRun);
  } catch (error) {
    if (!(isSluiceError(error) && error.code === 'conflict')) throw error;
  }
}

/**
 * Resumes the group's last group run when it stopped or failed: stops any
 * stream of the group still running, then starts a NEW execution of the same
 * group run (attempt + 1) that prepares the streams that did not finish again
 * (so a fix made meanwhile is picked up) and goes on from the checkpoint.
 */
export async function resumeGroup(principal: Principal, groupId: string): Promise<GroupRunRecord> {
  const group = await getGroup(principal, groupId);
  if (group.activeGroupRun) throw conflict(`stream group ${group.id} is running (${group.activeGroupRun.id}); there is nothing to resume`);
  // The group item names its newest group run (written with the claim, read consistently); the GSI listing is the fallback.
  const latestId = group.lastGroupRunId ?? (await listGroupRunRecords(group.id, 1)).items[0]?.id;
  const run = latestId ? await getGroupRunRecord(latestId) : undefined;
  if (!run) throw conflict(`stream group ${group.id} has never run; there is nothing to resume (start it)`);
  if (run.status === 'finished') throw conflict(`group run ${run.id} finished; there is nothing to resume (start the group again)`);
  if (!allowsGroupRun('resume', run)) throw conflict(groupRunRefusal('resume', run));

  // "Any running streams in the group are stopped."
  const streamIds = [...new Set([...run.streams, ...group.streams])];
  const streams = await Promise.all(streamIds.map((id) => getStreamRecord(id)));
  await Promise.all(streams.map((stream) => (stream?.activeRun ? stopStreamRun(stream.activeRun.id) : undefined)));

  // The stream in progress may have finished just as the group stopped, before its checkpoint was saved.
  let position = run.position;
  const completedStreams = [...run.completedStreams];
  if (run.currentRunId && run.streamRuns[String(position)] === run.currentRunId) {
    const last = await getRunRecord(run.currentRunId);
    if (last && (STREAM_DONE_STATUSES as readonly string[]).includes(last.status)) {
      completedStreams.push(run.streams[position]);
      position += 1;
    }
  }
  const attempt = run.attempt + 1;
  const moved = await transitionGroupRun(run, 'resume', {
    attempt: run.attempt,
    set: {
      attempt,
      position,
      completedStreams,
      currentRunId: null,
      endedAt: null,
      error: null,
      executionArn: null,
      checkpoint: { position, completedStreams, savedAt: new Date().toISOString() },
    },
  });
  if (!moved) {
    const fresh = await getGroupRunRecord(run.id);
    throw conflict(fresh && fresh.status !== run.status ? groupRunRefusal('resume', fresh) : `stream group ${group.id} is busy; try again`);
  }
  return launch({ ...run, attempt }, group);
}

// ---------------------------------------------------------------- workflow side

/** What every group task answers: the state the next Choice routes on. */
export interface GroupState {
  groupRunId: string;
  attempt: number;
  position: number;
  count: number;
  /** stream: start the stream at `position`; end: all done; halt: this attempt no longer owns the run; failed: Prepare failed it. */
  next: 'stream' | 'end' | 'halt' | 'failed';
}

/** An error a group task throws to Step Functions: its name is what Retry/Catch match. */
export class GroupStepError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Group tasks retry their own transient failures as `Sluice.GroupTransient` (not `Sluice.Transient`: that is what a failed stream run reports). */
function asStepError(error: unknown): unknown {
  const classified = classify(error) as Error;
  if (classified?.name === 'Sluice.Transient') return new GroupStepError('Sluice.GroupTransient', classified.message);
  return error;
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asStepError(error);
  }
}

const stateOf = (run: GroupRunRecord, attempt: number, position = run.position): GroupState => ({
  groupRunId: run.id,
  attempt,
  position,
  count: run.streams.length,
  next: position < run.streams.length ? 'stream' : 'end',
});
const halted = (input: { groupRunId: string; attempt: number }, run?: GroupRunRecord): GroupState => ({
  groupRunId: input.groupRunId,
  attempt: input.attempt,
  position: run?.position ?? 0,
  count: run?.streams.length ?? 0,
  next: 'halt',
});
const owns = (run: GroupRunRecord | undefined, attempt: number, status: GroupRunRecord['status']): run is GroupRunRecord =>
  run !== undefined && run.attempt === attempt && run.status === status;

/**
 * Prepare: every stream from the checkpoint on exists in the solution, its
 * runnable definition (deployed tag, else autosave) is valid and has a
 * source; its version is pinned for this attempt. Any problem fails the
 * group run before a stream starts, naming every problem.
 */
export function prepareGroupRun(input: { groupRunId: string; attempt: number }): Promise<GroupState> {
  return guarded(async () => {
    const run = await getGroupRunRecord(input.groupRunId);
    if (!owns(run, input.attempt, 'preparing')) return halted(input, run);
    const details: ErrorDetail[] = [];
    const pins: PinnedStream[] = [];
    await Promise.all(
      run.streams.map(async (streamId, position) => {
        if (position < run.position) return;
        const path = `streams[${position}]`;
        const stream = await getStreamRecord(streamId);
        if (!stream || stream.solutionId !== run.solutionId) {
          details.push({ path, message: `stream ${streamId} does not exist` });
          return;
        }
        const { version, definition } = await runnableVersion(stream);
        try {
          await validateDefinition(structuredClone(definition));
        } catch (error) {
          if (!isSluiceError(error)) throw error;
          const problems = error.details?.length ? error.details.map((d) => `${d.path}: ${d.message}`).join('; ') : error.message;
          details.push({ path, message: `stream ${streamId} (${version}) has an invalid definition: ${problems}` });
          return;
        }
        if (!definition.nodes.some((node) => isSource(node.type))) {
          details.push({ path, message: `stream ${streamId} (${version}) has no source node; there is nothing to run` });
          return;
        }
        pins.push({ position, streamId, version, definition: definition as Definition });
      }),
    );
    if (details.length) {
      details.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
      const error: GroupRunError = {
        code: 'prepare_failed',
        message: `the group run failed at Prepare, before any stream started: ${details.map((d) => d.message).join('; ')}`,
        details,
      };
      await transitionGroupRun(run, 'fail', { attempt: input.attempt, set: { endedAt: new Date().toISOString(), error } });
      return { ...stateOf(run, input.attempt), next: 'failed' };
    }
    await Promise.all(pins.map((pin) => putPin(run.id, pin)));
    const versions = { ...run.versions, ...Object.fromEntries(pins.map((pin) => [String(pin.position), pin.version])) };
    if (!(await transitionGroupRun(run, 'prepared', { attempt: input.attempt, set: { versions } }))) return halted(input, run);
    return stateOf(run, input.attempt);
  });
}

/**
 * StartStream (`lambda:invoke.waitForTaskToken`): starts the stream at
 * `position` with its pinned version, trigger `group` and the task token as
 * the run's callback token; the run's end answers it. At most one run per
 * (attempt, position): a retried task finds the start marker and adopts that
 * run (the new token replaces the old one, or the run's end is answered now).
 */
export function startGroupStream(input: { groupRunId: string; attempt: number; position: number; taskToken: string }): Promise<{ runId?: string; halted?: true }> {
  return guarded(async () => {
    const { groupRunId, attempt, position, taskToken } = input;
    const existing = await startMarkerRun(groupRunId, attempt, position);
    if (existing) return adoptRun(existing, taskToken);
    const run = await getGroupRunRecord(groupRunId);
    if (!owns(run, attempt, 'running') || run.position !== position) return answerHalted(taskToken);
    const pin = await getPin(groupRunId, position);
    if (!pin) throw new GroupStepError('Sluice.Configuration', `no version was pinned for position ${position} of group run ${groupRunId}`);
    const stream = await getStreamRecord(pin.streamId);
    if (!stream) throw new GroupStepError('Sluice.StreamMissing', `stream ${pin.streamId} was deleted after the group run was prepared`);
    try {
      const outcome = await startRunOf(stream, {
        trigger: 'group',
        groupRunId,
        callbackToken: taskToken,
        pinned: { version: pin.version, definition: pin.definition },
        transactionItems: (streamRun) => groupStartWrites(groupRunId, attempt, position, streamRun.id),
      });
      return { runId: outcome.run!.id };
    } catch (error) {
      if (!(isSluiceError(error) && error.code === 'conflict')) throw error;
      const raced = await startMarkerRun(groupRunId, attempt, position);
      if (raced) return adoptRun(raced, taskToken);
      const now = await getGroupRunRecord(groupRunId);
      if (!owns(now, attempt, 'running') || now.position !== position) return answerHalted(taskToken);
      const current = await getStreamRecord(pin.streamId);
      throw new GroupStepError('Sluice.StreamBusy', `stream ${pin.streamId} already has an active run ${current?.activeRun?.id ?? ''} that this group did not start`.replace('  ', ' '));
    }
  });
}

async function answerHalted(taskToken: string): Promise<{ halted: true }> {
  await sendTaskSuccess(taskToken, { status: 'halted' });
  return { halted: true };
}

async function adoptRun(runId: string, taskToken: string): Promise<{ runId: string }> {
  const run = await getRunRecord(runId);
  if (!run) throw new GroupStepError('Sluice.Configuration', `run ${runId} started by this group run is gone`);
  if (!isTerminal(run.status) && (await replaceCallbackToken(runId, taskToken))) return { runId };
  await answerEnded((await getRunRecord(runId)) ?? run, taskToken);
  return { runId };
}

/** Answers a token the way endRun would have. */
async function answerEnded(run: RunRecord, taskToken: string): Promise<void> {
  if (run.status === 'failed') await sendTaskFailure(taskToken, run.error?.code ?? 'RunFailed', run.error?.message ?? 'the run failed');
  else await sendTaskSuccess(taskToken, { runId: run.id, status: run.status });
}

/** SaveCheckpoint: the stream at `position` finished; the checkpoint moves past it. Idempotent. */
export function saveGroupCheckpoint(input: { groupRunId: string; attempt: number; position: number; runId?: string; status?: string }): Promise<GroupState> {
  return guarded(async () => {
    const run = await getGroupRunRecord(input.groupRunId);
    if (!run || run.attempt !== input.attempt) return halted(input, run);
    if (run.status === 'running' && run.position === input.position + 1) return stateOf(run, input.attempt); // a retry after it was saved
    if (run.status !== 'running' || run.position !== input.position) return halted(input, run);
    const position = input.position + 1;
    const completedStreams = [...run.completedStreams, run.streams[input.position]];
    const saved = await transitionGroupRun(run, 'checkpoint', {
      attempt: input.attempt,
      condition: { expression: '#position = :position', names: { '#position': 'position' }, values: { ':position': input.position } },
      set: { position, completedStreams, currentRunId: null, checkpoint: { position, completedStreams, savedAt: new Date().toISOString() } },
    });
    if (!saved) {
      const fresh = await getGroupRunRecord(input.groupRunId);
      if (owns(fresh, input.attempt, 'running') && fresh.position === position) return stateOf(fresh, input.attempt);
      return halted(input, fresh);
    }
    return stateOf({ ...run, position }, input.attempt);
  });
}

/** Ends the group run (`run` as the caller read it); answers its status, read again only when the transition did not apply. */
async function endGroupRun(
  run: GroupRunRecord | undefined,
  input: { groupRunId: string; attempt: number },
  transition: GroupRunTransition,
  write: GroupRunWrite = {},
): Promise<{ groupRunId: string; status: string }> {
  if (!run) return { groupRunId: input.groupRunId, status: 'unknown' };
  if (await transitionGroupRun(run, transition, { ...write, attempt: input.attempt, set: { endedAt: new Date().toISOString(), ...write.set } })) {
    return { groupRunId: input.groupRunId, status: GROUP_RUN_TRANSITIONS[transition].to };
  }
  return { groupRunId: input.groupRunId, status: (await getGroupRunRecord(input.groupRunId))?.status ?? 'unknown' };
}

const readAndEnd = (input: { groupRunId: string; attempt: number }, transition: GroupRunTransition, write?: GroupRunWrite) =>
  guarded(async () => endGroupRun(await getGroupRunRecord(input.groupRunId), input, transition, write));

/** RecordGroupEnd: every stream finished. */
export const recordGroupEnd = (input: { groupRunId: string; attempt: number }) => readAndEnd(input, 'finish', { set: { currentRunId: null } });

/** RecordGroupStopped: the running stream's run was stopped (not through the group): the group stops, its checkpoint kept. */
export const recordGroupStopped = (input: { groupRunId: string; attempt: number }) => readAndEnd(input, 'stop');

/**
 * RecordGroupFailure, reached through Catch: a stream run failed (its
 * SendTaskFailure), or a stream could not start. `error` is Step Functions'
 * `{Error, Cause}` (a Lambda's Cause is JSON with errorMessage).
 */
export function recordGroupFailure(input: { groupRunId: string; attempt: number; error?: { Error?: string; Cause?: string } }) {
  return guarded(async () => {
    const run = await getGroupRunRecord(input.groupRunId);
    const name = input.error?.Error ?? 'Error';
    let cause = input.error?.Cause ?? 'the group run failed';
    try {
      const parsed = JSON.parse(cause);
      if (typeof parsed?.errorMessage === 'string') cause = parsed.errorMessage;
    } catch {
      // a plain-text cause
    }
    const position = run?.position ?? 0;
    const streamId = run?.streams[position];
    const runId = run?.currentRunId ?? undefined;
    const code = name === 'Sluice.StreamBusy' ? 'stream_busy' : name === 'Sluice.StreamMissing' ? 'stream_missing' : runId ? 'stream_failed' : 'group_failed';
    const error: GroupRunError = {
      code,
      message: `stream ${streamId ?? '?'} (position ${position})${runId ? ` run ${runId}` : ''} failed: ${name}: ${cause}`.slice(0, 2000),
      streamId,
      runId,
      position,
    };
    return endGroupRun(run, input, 'fail', { set: { error } });
  });
}
