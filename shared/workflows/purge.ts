import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { GroupTestHooks } from '../engine/test-hooks.ts';
import { logger } from '../http/logger.ts';
import { purgeTargetId, type PurgeTarget } from '../model/purge.ts';
import { executionStatus, sfn } from './sfn.ts';

const purgeStateMachineArn = () => {
  const arn = process.env.PURGE_STATE_MACHINE_ARN;
  if (!arn) throw new Error('PURGE_STATE_MACHINE_ARN is not set');
  return arn;
};

/** `purge-{id}`: the first purge of a stream or group; `purge-{id}-{suffix}` a later one. */
const purgeExecutionName = (target: PurgeTarget, suffix?: string) => `purge-${purgeTargetId(target)}${suffix ? `-${suffix}` : ''}`;

/**
 * Starts the `purge` state machine for a deleted stream or group. The
 * execution is named after it, so a repeated start (a retried delete hook, a
 * second sweep in the same hour) finds the one already started instead of
 * starting a second. The delete has happened by then, so a purge that cannot
 * start is logged, not thrown: the tombstone (`PK=PURGE`) keeps it for the
 * sweep (docs/architecture.md "Deleting a stream").
 */
export async function startPurge(target: PurgeTarget, suffix?: string, testHooks?: GroupTestHooks): Promise<void> {
  // testHooks (tests only, never set in a deployed stack): the local endpoint refuses this start.
  const input = testHooks?.refuseStartExecution ? { ...target, testHooks: { refuseStartExecution: true } } : target;
  try {
    await sfn.send(new StartExecutionCommand({ stateMachineArn: purgeStateMachineArn(), name: purgeExecutionName(target, suffix), input: JSON.stringify(input) }));
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return;
    await logger.error('the purge of a deleted stream or group did not start', { id: purgeTargetId(target), solutionId: target.solutionId, error: String(error) });
  }
}

/** The status of the first purge of a target (RUNNING, SUCCEEDED, FAILED, ...), or undefined when it never started. */
export function firstPurgeStatus(target: PurgeTarget): Promise<string | undefined> {
  return executionStatus(`${purgeStateMachineArn().replace(':stateMachine:', ':execution:')}:${purgeExecutionName(target)}`);
}
