import { isSluiceError } from '#shared/model/errors.ts';
import { startRunOf } from '#shared/services/runs.ts';
import { startGroupOf } from '#shared/services/group-runs.ts';
import type { ScheduledRunInput } from '#shared/services/schedules.ts';
import { getGroupRecord } from '#shared/store/groups.ts';
import { getStreamRecord } from '#shared/store/streams.ts';
import { logger } from '#shared/http/logger.ts';

/**
 * The EventBridge Scheduler target: one fire of a deployed stream's schedule
 * starts a run (trigger `schedule`); one fire of a stream group's schedule
 * (input `groupId`) starts a group run (docs/groups.md). Delivery is
 * at-least-once, so the start is keyed by the fire time: a second delivery of
 * the same fire finds the fire marker and starts nothing. A fire while a run
 * (or group run) is still active is skipped.
 */
export async function handler(event: ScheduledRunInput): Promise<{ started?: string; skipped?: string }> {
  const fired = new Date(event.scheduledTime);
  if (Number.isNaN(fired.getTime())) throw new Error(`scheduledTime ${event.scheduledTime} is not a time; the schedule input must carry <aws.scheduler.scheduled-time>`);
  const fireTime = fired.toISOString();
  if (event.groupId) return fireGroup(event.groupId, event.solutionId, fireTime);
  const stream = event.streamId ? await getStreamRecord(event.streamId) : undefined;
  if (!stream || stream.solutionId !== event.solutionId) return { skipped: 'the stream no longer exists' };
  if (stream.deployment?.phase !== 'deployed' && !stream.faces?.domo) return { skipped: 'the stream is not deployed' };
  return skipRefusals({ streamId: stream.id, fireTime }, async () => {
    const outcome = await startRunOf(stream, { trigger: 'schedule', fireTime });
    if (outcome.duplicate) return { skipped: `fire ${fireTime} already started run ${outcome.run?.id ?? ''}`.trim() };
    return { started: outcome.run.id };
  });
}

async function fireGroup(groupId: string, solutionId: string, fireTime: string) {
  const group = await getGroupRecord(groupId);
  if (!group || group.solutionId !== solutionId) return { skipped: 'the stream group no longer exists' };
  return skipRefusals({ groupId, fireTime }, async () => {
    const outcome = await startGroupOf(group, { trigger: 'schedule', fireTime });
    if (outcome.duplicate) return { skipped: `fire ${fireTime} already started group run ${outcome.run?.id ?? ''}`.trim() };
    return { started: outcome.run.id };
  });
}

async function skipRefusals(context: Record<string, string>, start: () => Promise<{ started?: string; skipped?: string }>) {
  try {
    return await start();
  } catch (error) {
    // Busy (a run still active), or nothing runnable: this fire is skipped; redelivering it would not help.
    if (isSluiceError(error) && ['conflict', 'invalid_request', 'not_found'].includes(error.code)) {
      await logger.info('scheduled fire skipped', { ...context, reason: error.message });
      return { skipped: error.message };
    }
    throw error;
  }
}
