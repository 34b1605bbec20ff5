import { deleteUnderPrefix, streamPrefix } from '../blobs/objects.ts';
import type { CdcSource } from '../model/definition.ts';
import { metadataPartition } from '../store/metadata.ts';
import { dataPartition, packetsPartition, receiptsPartition } from '../store/packets.ts';
import { deletePartitionItems } from '../store/purge.ts';
import { runsPartition } from '../store/runs.ts';
import { sessionsPartition } from '../store/sessions.ts';
import { getStreamRecord, removePurgeTombstone } from '../store/streams.ts';

export interface PurgeTarget {
  streamId: string;
  solutionId: string;
  /** Its CDC sources, taken from the definition at delete time: their replication slots are dropped. */
  cdcSources?: CdcSource[];
}

export interface PurgeProgress {
  /** Nothing is left; the state machine ends. */
  done: boolean;
  /** Items and objects this pass deleted. */
  items: number;
  objects: number;
  /** Set when the pass refused to purge. */
  skipped?: string;
}

const PAGE = 500;

/**
 * One pass of removing what a deleted stream leaves behind, run by the
 * `purge` state machine until a pass answers `done` (docs/architecture.md
 * "Deleting a stream"): the items of the stream's partitions (its children:
 * tags, executions, parts, dataset versions, offsets, markers; the data log,
 * the packet index, append receipts, metadata, sessions), its runs, and every
 * object under its S3 prefix, the replication slots of its CDC sources;
 * last, the tombstone the delete left. A pass stops after `budgetMs` so a task stays
 * well inside its Lambda timeout. Every pass queries from the start again, so
 * a retried or repeated pass only finds what is left.
 */
export async function purgeStreamPass(target: PurgeTarget, budgetMs = 60_000): Promise<PurgeProgress> {
  // Never a live stream: a purge is only started after the delete committed.
  if (await getStreamRecord(target.streamId)) return { done: true, items: 0, objects: 0, skipped: `stream ${target.streamId} exists` };
  const deadline = Date.now() + budgetMs;
  const { streamId } = target;
  const sweeps: (readonly [kind: 'items' | 'objects', sweep: () => Promise<number>])[] = [
    ...[`STM#${streamId}`, dataPartition(streamId), packetsPartition(streamId), receiptsPartition(streamId), metadataPartition(streamId), sessionsPartition(streamId)].map(
      (partition) => ['items', () => deletePartitionItems(partition, PAGE)] as const,
    ),
    ['items', () => deletePartitionItems(runsPartition(streamId), PAGE, 'GSI1')],
    ['objects', () => deleteUnderPrefix(streamPrefix(target.solutionId, streamId))],
  ];
  const progress: PurgeProgress = { done: false, items: 0, objects: 0 };
  for (const [kind, sweep] of sweeps) {
    for (let deleted = await sweep(); deleted > 0; deleted = await sweep()) {
      progress[kind] += deleted;
      if (Date.now() > deadline) return progress;
    }
  }
  if (target.cdcSources?.length) {
    const { dropCdcSlots } = await import('./cdc-slots.ts');
    await dropCdcSlots(target.solutionId, streamId, target.cdcSources);
  }
  await removePurgeTombstone(streamId);
  return { ...progress, done: true };
}
