import { getRunRecord, transitionRun } from '#shared/store/runs.ts';
import { sendTaskSuccess } from '#shared/workflows/sfn.ts';

/**
 * The Park task (lambda:invoke.waitForTaskToken): the run reached a bundle
 * boundary with a pause request. Saving the token and observing `paused` is
 * one conditional write; if the request was withdrawn or turned into a stop
 * meanwhile, the run is woken at once by answering its own token.
 */
export async function handler(event: { runId: string; taskToken: string }): Promise<{ parked: boolean }> {
  const run = await getRunRecord(event.runId);
  if (run) {
    const parked = await transitionRun(run, 'park', {
      set: { taskToken: event.taskToken, pausedAt: new Date().toISOString() },
      streamActiveRun: { id: run.id, status: 'paused' },
    });
    if (parked) return { parked: true };
  }
  await sendTaskSuccess(event.taskToken, { parked: false });
  return { parked: false };
}
