/**
 * The group-run lifecycle as one transition table (docs/groups.md). Every
 * transition is ONE conditional write whose condition comes from `from`
 * (plus, for the workflow's own steps, the execution attempt they belong to),
 * so a caller and the state machine racing cannot both win.
 */
export const GROUP_RUN_STATUSES = ['preparing', 'running', 'stopped', 'finished', 'failed'] as const;
export type GroupRunStatus = (typeof GROUP_RUN_STATUSES)[number];

export type GroupRunTransition =
  | 'prepared' // Prepare: every remaining stream checked and pinned
  | 'checkpoint' // SaveCheckpoint: a stream finished; position + 1
  | 'finish' // RecordGroupEnd: the last stream finished
  | 'fail' // Prepare, or RecordGroupFailure: a stream failed, or could not start
  | 'stop' // POST stop, or RecordGroupStopped: the running stream's run was stopped
  | 'resume'; // POST resume: a new execution of the same group run

/** What the group item's `activeGroupRun` slot does in the same transaction. */
export type SlotChange = 'claim' | 'mirror' | 'release' | 'none';

interface GroupRunTransitionSpec {
  from: GroupRunStatus[];
  to: GroupRunStatus;
  slot: SlotChange;
  /** The 409 message when `from` does not hold. */
  refusal: string;
}

export const GROUP_RUN_TRANSITIONS: Record<GroupRunTransition, GroupRunTransitionSpec> = {
  prepared: { from: ['preparing'], to: 'running', slot: 'mirror', refusal: 'the group run is not preparing' },
  checkpoint: { from: ['running'], to: 'running', slot: 'none', refusal: 'the group run is not running' },
  finish: { from: ['running'], to: 'finished', slot: 'release', refusal: 'the group run is not running' },
  fail: { from: ['preparing', 'running'], to: 'failed', slot: 'release', refusal: 'the group run has already ended' },
  stop: { from: ['preparing', 'running'], to: 'stopped', slot: 'release', refusal: 'only a preparing or running group run can be stopped' },
  resume: { from: ['stopped', 'failed'], to: 'preparing', slot: 'claim', refusal: 'only a stopped or failed group run can be resumed' },
};

export const allowsGroupRun = (transition: GroupRunTransition, run: { status: GroupRunStatus }) =>
  GROUP_RUN_TRANSITIONS[transition].from.includes(run.status);

/** `#status IN (:gf0, ...)` with its names and values. */
export function groupRunCondition(transition: GroupRunTransition): { expression: string; names: Record<string, string>; values: Record<string, unknown> } {
  const values: Record<string, unknown> = {};
  const list = GROUP_RUN_TRANSITIONS[transition].from.map((status, i) => {
    values[`:gf${i}`] = status;
    return `:gf${i}`;
  });
  return { expression: `#status IN (${list.join(', ')})`, names: { '#status': 'status' }, values };
}

export function groupRunRefusal(transition: GroupRunTransition, run: { id: string; status: GroupRunStatus }): string {
  return `group run ${run.id} is ${run.status}; ${GROUP_RUN_TRANSITIONS[transition].refusal}`;
}

/** How a stream's run ended, as far as the group is concerned: done (go on), or stopped (the group stops). */
export const STREAM_DONE_STATUSES = ['finished', 'time_limit_reached', 'event_limit_reached'] as const;
