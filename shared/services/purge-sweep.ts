import { purgeTargetId } from '../model/purge.ts';
import { listPurgeTombstones } from '../store/purge.ts';
import { firstPurgeStatus, startPurge } from '../workflows/purge.ts';

/** A purge not done this long after its delete is started again. */
export const STALE_PURGE_MS = 60 * 60 * 1000;

/**
 * The hourly sweep (infra/schedules.ts): starts again every purge whose
 * tombstone is older than `staleMs`, whether it never started (Step
 * Functions was unavailable at delete time) or failed (its retries ran out),
 * unless the first purge is still running (a big stream takes a while). The
 * new execution is named after the hour, so two sweeps in one hour start it
 * once; two purges of the same target at a time are harmless, since each pass
 * only deletes what is left.
 */
export async function sweepPurges(now = Date.now(), staleMs = STALE_PURGE_MS): Promise<{ restarted: string[] }> {
  const hour = new Date(now).toISOString().slice(0, 13).replace(/\D/g, '');
  const restarted: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listPurgeTombstones(100, cursor);
    for (const { target, deletedAt } of page.items) {
      if (!target || now - Date.parse(deletedAt) < staleMs) continue;
      if ((await firstPurgeStatus(target)) === 'RUNNING') continue;
      await startPurge(target, `sweep-${hour}`);
      restarted.push(purgeTargetId(target));
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { restarted };
}
