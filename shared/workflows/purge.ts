import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { PurgeTarget } from '../services/stream-purge.ts';
import { sfn } from './sfn.ts';

/**
 * Starts the `purge` state machine for a deleted stream. The execution is
 * named after the stream, so a repeated start (a retried delete hook) finds
 * the one already started instead of starting a second.
 */
export async function startStreamPurge(target: PurgeTarget): Promise<void> {
  const stateMachineArn = process.env.PURGE_STATE_MACHINE_ARN;
  if (!stateMachineArn) throw new Error('PURGE_STATE_MACHINE_ARN is not set');
  try {
    await sfn.send(new StartExecutionCommand({ stateMachineArn, name: `purge-${target.streamId}`, input: JSON.stringify(target) }));
  } catch (error) {
    if ((error as { name?: string }).name !== 'ExecutionAlreadyExists') throw error;
  }
}
