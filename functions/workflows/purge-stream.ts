import { purgeStreamPass, type PurgeProgress, type PurgeTarget } from '#shared/services/stream-purge.ts';

/** The PurgeStream task: one time-boxed pass; the state machine repeats it until `done`. */
export async function handler(event: PurgeTarget): Promise<PurgeProgress> {
  return purgeStreamPass({ streamId: event.streamId, solutionId: event.solutionId, cdcSources: event.cdcSources });
}
