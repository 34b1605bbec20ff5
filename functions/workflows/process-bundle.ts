import type { Context } from 'aws-lambda';
import { classify } from '#shared/engine/errors.ts';
import { processRun, type RunAction } from '#shared/engine/runner.ts';
import { getRunRecord } from '#shared/store/runs.ts';
import { executionName, type RunExecutionInput } from '#shared/workflows/sfn.ts';
import { logger } from '#shared/http/logger.ts';
import '#shared/engine/nodes.ts';

/**
 * The ProcessBundle task of run.asl.json. Input: the state (`runId`,
 * `iteration`, `generation`, `executionId`, `idleStreak`) plus `executionArn`
 * ($$.Execution.Id). Output: the next state with `action` for the Choice.
 */
export interface ProcessBundleState extends RunExecutionInput {
  executionArn?: string;
}

export interface ProcessBundleAnswer extends ProcessBundleState {
  action: RunAction;
  waitSeconds: number;
  next?: { name: string; input: RunExecutionInput };
}

/** Loops of one execution before it continues as a new one (history limit: 25,000 events; a loop is under 15). */
export const CONTINUE_AFTER_LOOPS = 1000;
const BUDGET_MS = Number(process.env.RUN_BUNDLE_BUDGET_SECONDS ?? 20) * 1000;
const MAX_IDLE_SECONDS = Number(process.env.RUN_MAX_IDLE_SECONDS ?? 10);

export async function handler(event: ProcessBundleState, context?: Context): Promise<ProcessBundleAnswer> {
  const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
  const deadline = Date.now() + Math.max(1000, Math.min(BUDGET_MS, remaining - 10_000));
  let result;
  try {
    result = await processRun(event.runId, { deadline, executionArn: event.executionArn });
  } catch (error) {
    const classified = classify(error);
    await logger.warn('ProcessBundle failed', { runId: event.runId, error: (classified as Error).name, detail: (classified as Error).message });
    throw classified;
  }
  const iteration = (event.iteration ?? 0) + 1;
  const idleStreak = result.action === 'idle' ? (result.bundles > 0 ? 0 : (event.idleStreak ?? 0) + 1) : 0;
  const answer: ProcessBundleAnswer = {
    runId: event.runId,
    executionId: event.executionId,
    generation: event.generation ?? 0,
    iteration,
    idleStreak,
    action: result.action,
    // Idle polls back off 1, 2, 4... seconds up to RUN_MAX_IDLE_SECONDS.
    waitSeconds: result.action === 'idle' ? Math.min(MAX_IDLE_SECONDS, 2 ** Math.max(0, idleStreak - 1)) : 0,
  };
  if ((result.action === 'more' || result.action === 'idle') && iteration >= (await continueAfter(event.runId))) {
    const generation = answer.generation + 1;
    answer.action = 'continue';
    answer.next = {
      name: executionName(event.executionId, generation),
      input: { runId: event.runId, iteration: 0, generation, executionId: event.executionId, idleStreak: 0 },
    };
  }
  delete answer.executionArn;
  return answer;
}

async function continueAfter(runId: string): Promise<number> {
  if (process.env.SLUICE_TEST_HOOKS !== 'true') return CONTINUE_AFTER_LOOPS;
  return (await getRunRecord(runId))?.testHooks?.continueAfter ?? CONTINUE_AFTER_LOOPS;
}
