import { StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { GroupTestHooks } from '../engine/test-hooks.ts';
import { sfn } from './sfn.ts';

/** The Step Functions calls of the group-run lifecycle (group.asl.json, docs/groups.md). */
export function groupStateMachineArn(): string {
  const arn = process.env.GROUP_STATE_MACHINE_ARN;
  if (!arn) throw new Error('GROUP_STATE_MACHINE_ARN is not set');
  return arn;
}

export interface GroupExecutionInput {
  groupRunId: string;
  attempt: number;
}

/** One execution per attempt, named `{groupRunId}-a{attempt}`: a repeated start of the same attempt is the same execution. */
export const groupExecutionName = (input: GroupExecutionInput) => `${input.groupRunId}-a${input.attempt}`;

/** `testHooks` (tests only, never set in a deployed stack): the local endpoint refuses this attempt's start. */
export async function startGroupExecution(input: GroupExecutionInput, testHooks?: GroupTestHooks): Promise<string> {
  const refuse = testHooks?.refuseStartExecution !== undefined && input.attempt <= testHooks.refuseStartExecution;
  const body = refuse ? { ...input, testHooks: { refuseStartExecution: true } } : input;
  const result = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: groupStateMachineArn(), name: groupExecutionName(input), input: JSON.stringify(body) }),
  );
  return result.executionArn!;
}

/** Stops an execution; one that is gone or already ended is fine. */
export async function stopExecution(executionArn: string, cause: string): Promise<void> {
  try {
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'Sluice.Stopped', cause }));
  } catch (error) {
    if ((error as Error).name !== 'ExecutionDoesNotExist') throw error;
  }
}
