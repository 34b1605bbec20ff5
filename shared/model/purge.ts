import { cdcSourcesOf, type CdcSource, type Definition } from './definition.ts';

/** What the `purge` state machine removes: a deleted stream's leftovers, or a deleted group's (docs/architecture.md "Deleting a stream"). */
export type PurgeTarget = StreamPurge | GroupPurge;

export interface StreamPurge {
  streamId: string;
  solutionId: string;
  /** Its CDC sources, taken from the definition at delete time: their replication slots are dropped. */
  cdcSources?: CdcSource[];
}

export interface GroupPurge {
  groupId: string;
  solutionId: string;
}

export const purgeTargetId = (target: PurgeTarget) => ('groupId' in target ? target.groupId : target.streamId);

export const streamPurgeTarget = (stream: { id: string; solutionId: string; definition: Definition }): StreamPurge => ({
  streamId: stream.id,
  solutionId: stream.solutionId,
  cdcSources: cdcSourcesOf(stream.definition),
});
