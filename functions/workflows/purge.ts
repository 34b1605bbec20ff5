import type { PurgeTarget } from '#shared/model/purge.ts';
import { purgePass, type PurgeProgress } from '#shared/services/purge.ts';

/** The Purge task: one time-boxed pass over a deleted stream's or group's leftovers; the state machine repeats it until `done`. */
export async function handler(event: PurgeTarget & { pass?: PurgeProgress }): Promise<PurgeProgress> {
  const { pass: _previous, ...target } = event;
  return purgePass(target as PurgeTarget);
}
