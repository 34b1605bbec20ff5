import { sweepPurges } from '#shared/services/purge-sweep.ts';

/** Invoked hourly by its EventBridge Scheduler schedule (infra/schedules.ts). */
export async function handler(): Promise<{ restarted: string[] }> {
  return sweepPurges();
}
