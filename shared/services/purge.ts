import { deleteUnderPrefix, streamPrefix } from '../blobs/objects.ts';
import type { GroupPurge, PurgeTarget, StreamPurge } from '../model/purge.ts';
import { groupRunsPartition } from '../store/group-runs.ts';
import { getGroupRecord } from '../store/groups.ts';
import { metadataPartition } from '../store/metadata.ts';
import { dataPartition, packetsPartition, receiptsPartition } from '../store/packets.ts';
import { deletePartitionItems, removePurgeTombstone } from '../store/purge.ts';
import { queryPage } from '../store/query.ts';
import { runsPartition } from '../store/runs.ts';
import { sessionsPartition } from '../store/sessions.ts';
import { getStreamRecord } from '../store/streams.ts';

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

/** A step of a purge: deletes a page of something and answers how many it found (0 = nothing left). */
type Sweep = readonly [kind: 'items' | 'objects', sweep: () => Promise<number>];

/**
 * One pass of a purge, run by the `purge` state machine until a pass answers
 * `done` (docs/architecture.md "Deleting a stream"). A pass stops after
 * `budgetMs` so a task stays well inside its Lambda timeout. Every pass
 * queries from the start again, so a retried or repeated pass only finds what
 * is left. It never touches a stream or group that exists: a purge is only
 * started after the delete committed.
 */
export async function purgePass(target: PurgeTarget, budgetMs = 60_000): Promise<PurgeProgress> {
  const deadline = Date.now() + budgetMs;
  if ('groupId' in target) {
    if (await getGroupRecord(target.groupId)) return { done: true, items: 0, objects: 0, skipped: `stream group ${target.groupId} exists` };
    const progress = await sweepAll(groupSweeps(target), deadline);
    if (progress.done) await removePurgeTombstone(target.groupId);
    return progress;
  }
  if (await getStreamRecord(target.streamId)) return { done: true, items: 0, objects: 0, skipped: `stream ${target.streamId} exists` };
  const progress = await sweepAll(streamSweeps(target), deadline);
  if (!progress.done) return progress;
  if (target.cdcSources?.length) {
    const { dropCdcSlots } = await import('./cdc-slots.ts');
    await dropCdcSlots(target.solutionId, target.streamId, target.cdcSources);
  }
  await removePurgeTombstone(target.streamId);
  return progress;
}

async function sweepAll(sweeps: Sweep[], deadline: number): Promise<PurgeProgress> {
  const progress: PurgeProgress = { done: false, items: 0, objects: 0 };
  for (const [kind, sweep] of sweeps) {
    for (let found = await sweep(); found > 0; found = await sweep()) {
      progress[kind] += found;
      if (Date.now() > deadline) return progress;
    }
  }
  return { ...progress, done: true };
}

/**
 * A stream's partitions (its children: tags, executions, parts, dataset
 * versions, offsets, memberships, markers; the data log, the packet index,
 * append receipts, metadata, sessions), its runs, then every object under its
 * S3 prefix.
 */
function streamSweeps({ streamId, solutionId }: StreamPurge): Sweep[] {
  const partitions = [`STM#${streamId}`, dataPartition(streamId), packetsPartition(streamId), receiptsPartition(streamId), metadataPartition(streamId), sessionsPartition(streamId)];
  return [
    ...partitions.map((partition) => ['items', () => deletePartitionItems(partition, PAGE)] as const),
    ['items', listedBy(runsPartition(streamId))],
    ['objects', () => deleteUnderPrefix(streamPrefix(solutionId, streamId))],
  ];
}

/**
 * A group's runs, each with its pins and start markers, then the group's own
 * partition (schedule fire markers). The streams of the group, and their
 * runs, are not the group's.
 */
function groupSweeps({ groupId }: GroupPurge): Sweep[] {
  return [
    ['items', listedBy(groupRunsPartition(groupId))],
    ['items', () => deletePartitionItems(`GRP#${groupId}`, PAGE)],
  ];
}

/**
 * A sweep of the records a GSI1 partition lists (runs, group runs): each with
 * its whole partition, the listed item last. The index is eventually
 * consistent and lists for a moment what is already gone: such a page is not
 * deleted again, it waits for the index instead.
 */
function listedBy(partition: string): () => Promise<number> {
  const gone = new Set<string>();
  return async () => {
    const page = await queryPage({ index: 'GSI1', partition, limit: 25 });
    const fresh = page.items.filter((item) => !gone.has(String(item.PK)));
    for (const item of fresh) {
      await deleteWholePartition(String(item.PK));
      gone.add(String(item.PK));
    }
    if (page.items.length > 0 && fresh.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    return page.items.length;
  };
}

/** Deletes a partition page by page, last item first, and answers how many items it held. */
async function deleteWholePartition(partition: string): Promise<number> {
  let deleted = 0;
  for (let found = await deletePartitionItems(partition, PAGE, { lastFirst: true }); found > 0; found = await deletePartitionItems(partition, PAGE, { lastFirst: true })) {
    deleted += found;
  }
  return deleted;
}
