/**
 * The run lifecycle as one transition table. A run has two statuses kept
 * apart: `desiredStatus` (what callers asked for: running, paused, stopped)
 * and `status` (what the engine observes it doing). Every transition below is
 * applied as ONE conditional write whose condition is derived from `from`, so
 * two racing callers (or a caller and the engine) cannot both win.
 */
export const RUN_STATUSES = [
  'running',
  'paused',
  'stopped',
  'finished',
  'failed',
  'time_limit_reached',
  'event_limit_reached',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const DESIRED_STATUSES = ['running', 'paused', 'stopped'] as const;
export type DesiredStatus = (typeof DESIRED_STATUSES)[number];

export const TERMINAL_STATUSES: readonly RunStatus[] = ['stopped', 'finished', 'failed', 'time_limit_reached', 'event_limit_reached'];
export const isTerminal = (status: RunStatus) => TERMINAL_STATUSES.includes(status);

/** How a run ends, as the engine reports it to RecordEnd. */
export type EndStatus = Exclude<RunStatus, 'running' | 'paused'>;

export type RunTransition =
  | 'pause' // caller: ask a running run to pause at its next bundle boundary
  | 'resume' // caller: a parked (paused) run goes on; its task token is sent
  | 'cancelPause' // caller: resume before the engine parked: just take the request back
  | 'stop' // caller: ask a running or paused run to stop at its next bundle boundary
  | 'park' // engine: the run reached a bundle boundary with a pause request and saved its task token
  | 'end' // engine: stopped, finished or a limit reached
  | 'fail'; // engine: the run failed with an error

interface From {
  status: RunStatus[];
  desired?: DesiredStatus[];
}

interface TransitionSpec {
  from: From;
  /** Fixed fields written by the transition (the caller adds variable ones: token, endedAt, error). */
  to: { status?: RunStatus; desiredStatus?: DesiredStatus };
  /** The 409 message when `from` does not hold. */
  refusal: string;
}

export const RUN_TRANSITIONS: Record<RunTransition, TransitionSpec> = {
  pause: { from: { status: ['running'], desired: ['running'] }, to: { desiredStatus: 'paused' }, refusal: 'only a running run can be paused' },
  resume: { from: { status: ['paused'], desired: ['paused'] }, to: { status: 'running', desiredStatus: 'running' }, refusal: 'only a paused run can be resumed' },
  cancelPause: { from: { status: ['running'], desired: ['paused'] }, to: { desiredStatus: 'running' }, refusal: 'only a paused run can be resumed' },
  stop: { from: { status: ['running', 'paused'], desired: ['running', 'paused'] }, to: { desiredStatus: 'stopped' }, refusal: 'only a running or paused run can be stopped' },
  park: { from: { status: ['running'], desired: ['paused'] }, to: { status: 'paused' }, refusal: 'the run is not waiting to pause' },
  end: { from: { status: ['running', 'paused'] }, to: {}, refusal: 'the run has already ended' },
  fail: { from: { status: ['running', 'paused'] }, to: { status: 'failed' }, refusal: 'the run has already ended' },
};

export function allows(transition: RunTransition, run: { status: RunStatus; desiredStatus: DesiredStatus }): boolean {
  const { from } = RUN_TRANSITIONS[transition];
  return from.status.includes(run.status) && (!from.desired || from.desired.includes(run.desiredStatus));
}

/** Which caller transition answers a request on a run in this state (resume has two shapes). */
export function resumeTransition(run: { status: RunStatus; desiredStatus: DesiredStatus }): RunTransition {
  return allows('cancelPause', run) ? 'cancelPause' : 'resume';
}

/**
 * The DynamoDB condition of a transition: `#status IN (...) AND #desired IN (...)`,
 * with the attribute names and values it uses.
 */
export function transitionCondition(transition: RunTransition): {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  const { from } = RUN_TRANSITIONS[transition];
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = {};
  const statusList = from.status.map((s, i) => {
    values[`:from${i}`] = s;
    return `:from${i}`;
  });
  let expression = `#status IN (${statusList.join(', ')})`;
  if (from.desired) {
    names['#desired'] = 'desiredStatus';
    const desiredList = from.desired.map((s, i) => {
      values[`:want${i}`] = s;
      return `:want${i}`;
    });
    expression += ` AND #desired IN (${desiredList.join(', ')})`;
  }
  return { expression, names, values };
}

/** The refusal a 409 carries, naming the run's current status. */
export function refusalMessage(transition: RunTransition, run: { id: string; status: RunStatus; desiredStatus: DesiredStatus }): string {
  const pending = run.desiredStatus !== run.status && !isTerminal(run.status) ? ` (${run.desiredStatus} requested)` : '';
  return `run ${run.id} is ${run.status}${pending}; ${RUN_TRANSITIONS[transition].refusal}`;
}
