import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { logger } from '../http/logger.ts';
import { purgeTargetId, type PurgeTarget } from '../model/purge.ts';
import { sfn } from './sfn.ts';

/**
 * Starts the `purge` state machine for a deleted stream or group. The
 * execution is named after it, so a repeated start (a retried delete hook)
 * finds the one already started instead of starting a second. The delete has
 * happened by then, so a purge that cannot start is logged, not thrown: the
 * tombstone (`PK=PURGE`) lists it for a re-drive (docs/architecture.md
 * "Deleting a stream").
 */
export async function startPurge(target: PurgeTarget): Promise<void> {
  const id = purgeTargetId(target);
  try {
    const stateMachineArn = process.env.PURGE_STATE_MACHINE_ARN;
    if (!stateMachineArn) throw new Error('PURGE_STATE_MACHINE_ARN is not set');
    await sfn.send(new StartExecutionCommand({ stateMachineArn, name: `purge-${id}`, input: JSON.stringify(target) }));
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return;
    logger.error('the purge of a deleted stream or group did not start', { id, solutionId: target.solutionId, error: String(error) });
  }
}
