import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';

/**
 * The Step Functions calls of the run lifecycle. The endpoint comes from the
 * SDK's standard AWS_ENDPOINT_URL_SFN, so the same code talks to the local
 * runtime's endpoint and to AWS.
 */
// Pure, so a bundle that never sends through it does not construct it (docs/decisions.md, "Cold start").
export const sfn = /* @__PURE__ */ new SFNClient({});

export function runStateMachineArn(): string {
  const arn = process.env.RUN_STATE_MACHINE_ARN;
  if (!arn) throw new Error('RUN_STATE_MACHINE_ARN is not set');
  return arn;
}

/** The input every run execution starts with; continue-as-new passes the next generation. */
export interface RunExecutionInput {
  runId: string;
  iteration: number;
  generation: number;
  executionId: string;
  /** Consecutive idle polls (the Wait backs off with it). */
  idleStreak: number;
}

/** Execution names: `{executionId}` for the first, `{executionId}-c{generation}` after each continue-as-new. */
export const executionName = (executionId: string, generation: number) => (generation === 0 ? executionId : `${executionId}-c${generation}`);

export async function startRunExecution(input: RunExecutionInput): Promise<string> {
  const result = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: runStateMachineArn(),
      name: executionName(input.executionId, input.generation),
      input: JSON.stringify(input),
    }),
  );
  return result.executionArn!;
}

/** RUNNING, SUCCEEDED, FAILED, ABORTED, TIMED_OUT, or undefined when the execution is unknown. */
export async function executionStatus(executionArn: string): Promise<string | undefined> {
  try {
    const result = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return result.status;
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
}

/** Answers a task token; false when the token is no longer valid (the execution ended or timed out). */
export async function sendTaskSuccess(taskToken: string, output: unknown = {}): Promise<boolean> {
  try {
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    return true;
  } catch (error) {
    if (['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken'].includes((error as Error).name)) return false;
    throw error;
  }
}

export async function sendTaskFailure(taskToken: string, error: string, cause: string): Promise<boolean> {
  try {
    await sfn.send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32_000) }));
    return true;
  } catch (e) {
    if (['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken'].includes((e as Error).name)) return false;
    throw e;
  }
}
