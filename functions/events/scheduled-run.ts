import { isSluiceError } from '#shared/model/errors.ts';
import { startRunOf } from '#shared/services/runs.ts';
import type { ScheduledRunInput } from '#shared/services/schedules.ts';
import { getStreamRecord } from '#shared/store/streams.ts';
import { logger } from '#shared/http/logger.ts';

/**
 * The EventBridge Scheduler target: one fire of a deployed stream's schedule
 * starts a run (trigger `schedule`). Delivery is at-least-once, so the run is
 * keyed by the fire time: a second delivery of the same fire finds the fire
 * marker and starts nothing. A fire while a run is still active is skipped.
 */
export async function handler(event: ScheduledRunInput): Promise<{ started?: string; skipped?: string }> {
  const stream = await getStreamRecord(event.streamId);
  if (!stream || stream.solutionId !== event.solutionId) return { skipped: 'the stream no longer exists' };
  if (stream.deployment?.phase !== 'deployed' && !stream.faces?.domo) return { skipped: 'the stream is not deployed' };
  const fired = new Date(event.scheduledTime);
  if (Number.isNaN(fired.getTime())) throw new Error(`scheduledTime ${event.scheduledTime} is not a time; the schedule input must carry <aws.scheduler.scheduled-time>`);
  const fireTime = fired.toISOString();
  try {
    const outcome = await startRunOf(stream, { trigger: 'schedule', fireTime });
    if (outcome.duplicate) return { skipped: `fire ${fireTime} already started run ${outcome.run?.id ?? ''}`.trim() };
    return { started: outcome.run.id };
  } catch (error) {
    // Busy (a run still active), or nothing runnable: this fire is skipped; redelivering it would not help.
    if (isSluiceError(error) && ['conflict', 'invalid_request', 'not_found'].includes(error.code)) {
      logger.info('scheduled fire skipped', { streamId: stream.id, fireTime, reason: error.message });
      return { skipped: error.message };
    }
    throw error;
  }
}
