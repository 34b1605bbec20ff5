import { conflict } from './errors.ts';

/**
 * The execution lifecycle as data (STYLE.md "State machines as data"): an
 * execution is ACTIVE while parts arrive, then ends SUCCESS (committed),
 * ABORTED or FAILED. While a commit is being assembled the execution stays
 * ACTIVE but carries a commit claim (`commitToken`), so no part, abort or
 * second commit can slip in; `commit` and `fail` need that claim, `abort` and
 * part uploads need it absent (or expired: a Lambda dies after 15 minutes).
 */
export const EXECUTION_STATES = ['ACTIVE', 'SUCCESS', 'ABORTED', 'FAILED'] as const;
export type ExecutionState = (typeof EXECUTION_STATES)[number];

export const UPDATE_METHODS = ['APPEND', 'REPLACE', 'UPSERT'] as const;
export type UpdateMethod = (typeof UPDATE_METHODS)[number];

/** What the commit claim must be for a transition: absent/expired, held by the caller, or claimed by it now. */
export type ClaimRule = 'free' | 'held' | 'take';

export interface ExecutionTransition {
  from: ExecutionState;
  to: ExecutionState;
  claim: ClaimRule;
}

export const EXECUTION_TRANSITIONS = {
  /** Part uploads and method changes: stays ACTIVE, only while nobody commits. */
  edit: { from: 'ACTIVE', to: 'ACTIVE', claim: 'free' },
  /** Starts assembling the next dataset version. */
  claimCommit: { from: 'ACTIVE', to: 'ACTIVE', claim: 'take' },
  commit: { from: 'ACTIVE', to: 'SUCCESS', claim: 'held' },
  fail: { from: 'ACTIVE', to: 'FAILED', claim: 'held' },
  abort: { from: 'ACTIVE', to: 'ABORTED', claim: 'free' },
} as const satisfies Record<string, ExecutionTransition>;

export type ExecutionAction = keyof typeof EXECUTION_TRANSITIONS;

/** How long a commit claim protects an assembly: a Lambda's maximum duration. */
export const COMMIT_CLAIM_SECONDS = 15 * 60;

export interface ClaimView {
  state: ExecutionState;
  commitToken?: string;
  commitExpiresAt?: number;
}

const claimFree = (execution: ClaimView, nowSeconds: number) =>
  !execution.commitToken || (execution.commitExpiresAt ?? 0) < nowSeconds;

/** Throws the 409 a client sees when `action` cannot follow the execution's current state. */
export function assertTransition(execution: ClaimView, action: ExecutionAction, what: string, nowSeconds = Date.now() / 1000): void {
  const rule: ExecutionTransition = EXECUTION_TRANSITIONS[action];
  if (execution.state !== rule.from) {
    throw conflict(`${what} is ${execution.state}; ${action === 'edit' ? 'parts are accepted' : `${action} is possible`} only while it is ${rule.from}`);
  }
  if ((rule.claim === 'free' || rule.claim === 'take') && !claimFree(execution, nowSeconds)) {
    throw conflict(`${what} is being committed`);
  }
}

/**
 * The DynamoDB condition and update for one transition of an execution item:
 * the only way execution state is ever written.
 */
export function transitionWrite(
  action: ExecutionAction,
  options: { token?: string; now: string; nowSeconds: number; set?: Record<string, unknown> },
): { condition: string; update: string; names: Record<string, string>; values: Record<string, unknown> } {
  const rule: ExecutionTransition = EXECUTION_TRANSITIONS[action];
  const names: Record<string, string> = { '#state': 'state', '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':from': rule.from, ':to': rule.to, ':now': options.now };
  const conditions = ['#state = :from'];
  const sets = ['#state = :to', '#updatedAt = :now'];
  const removes: string[] = [];
  if (rule.claim === 'free' || rule.claim === 'take') {
    conditions.push('(attribute_not_exists(commitToken) OR commitExpiresAt < :nowSeconds)');
    values[':nowSeconds'] = options.nowSeconds;
  }
  if (rule.claim === 'held') {
    conditions.push('commitToken = :token');
    values[':token'] = options.token;
    removes.push('commitToken', 'commitExpiresAt');
  }
  if (rule.claim === 'take') {
    sets.push('commitToken = :token', 'commitExpiresAt = :expires');
    values[':token'] = options.token;
    values[':expires'] = options.nowSeconds + COMMIT_CLAIM_SECONDS;
  }
  if (rule.to !== 'ACTIVE') sets.push('endedAt = :now');
  Object.entries(options.set ?? {}).forEach(([field, value], i) => {
    names[`#s${i}`] = field;
    values[`:s${i}`] = value;
    sets.push(`#s${i} = :s${i}`);
  });
  return {
    condition: conditions.join(' AND '),
    update: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    names,
    values,
  };
}
