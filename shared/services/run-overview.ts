import * as z from 'zod/mini';
import { lazySchema } from '../model/validation.ts';
import { isSource, parseSourceOffset, s3SourcePrefix, type Definition, type DefinitionNode } from '../model/definition.ts';
import { getDataStatus } from '../store/packets.ts';
import { conflict, invalid } from '../model/errors.ts';
import type { Principal } from '../model/principal.ts';
import { listAggregates, type AggregateItem } from '../store/aggregates.ts';
import { encodeCursor, type Page } from '../store/pagination.ts';
import { queryAll } from '../store/query.ts';
import { getRunRecord, getStreamOffsets, listRunRecords, resetStreamOffsets, type RunRecord } from '../store/runs.ts';
import { getStreamRecord, listStreamRecords, streamsPartition, type StreamRecord } from '../store/streams.ts';
import { runStats } from './run-stats.ts';
import { runnableVersion } from './runs.ts';
import { getStream } from './streams.ts';

/**
 * Read models around runs: the UsageCloud stats list, a stream's committed
 * offsets (and their reset), aggregation-store items.
 */
export interface StatsItem {
  streamId: string;
  name: string;
  namespace: string;
  /** The active run's status, else the last run's, else `idle`; always lowercase. */
  status: string;
  deploymentPhase: string;
  deployedVersion: string | null;
  runId: string | null;
  uptimeSeconds: number;
  in: { records: number; bytes: number };
  out: { records: number; bytes: number };
  failed: number;
  groups: { id: string; name: string }[];
}

export interface StatsFilters {
  streamId?: string;
  status?: string;
  groupId?: string;
}

async function statsItem(stream: StreamRecord): Promise<StatsItem> {
  let run: RunRecord | undefined;
  if (stream.activeRun) run = await getRunRecord(stream.activeRun.id);
  run ??= (await listRunRecords(stream.id, 1)).items[0];
  const stats = run ? runStats(run) : undefined;
  // Group membership items live in the stream's partition: PK=STM#{id}, SK=GROUP#{groupId}.
  const groups = (await queryAll(`STM#${stream.id}`, 'GROUP#')).map((item) => ({ id: String(item.groupId ?? item.SK.slice(6)), name: String(item.groupName ?? '') }));
  return {
    streamId: stream.id,
    name: stream.name,
    namespace: stream.namespace,
    status: (run?.status ?? 'idle').toLowerCase(),
    deploymentPhase: (stream.deployment?.phase ?? 'undeployed').toLowerCase(),
    deployedVersion: stream.deployment?.phase === 'deployed' ? stream.deployment.version : null,
    runId: run?.id ?? null,
    uptimeSeconds: stats?.uptimeSeconds ?? 0,
    in: { records: stats?.totals.in ?? 0, bytes: stats?.totals.bytesIn ?? 0 },
    out: { records: stats?.totals.out ?? 0, bytes: stats?.totals.bytesOut ?? 0 },
    failed: stats?.totals.failed ?? 0,
    groups,
  };
}

const keep = (item: StatsItem, filters: StatsFilters) =>
  (!filters.status || item.status === filters.status.toLowerCase()) && (!filters.groupId || item.groups.some((g) => g.id === filters.groupId));

/** The stats list of a solution's streams, filtered, paginated over the streams listing. */
export async function listStats(solutionId: string, filters: StatsFilters, limit: number, cursor?: string): Promise<Page<StatsItem>> {
  if (filters.streamId) {
    const stream = await getStreamRecord(filters.streamId);
    if (!stream || stream.solutionId !== solutionId) return { items: [], nextCursor: null };
    const item = await statsItem(stream);
    return { items: keep(item, filters) ? [item] : [], nextCursor: null };
  }
  const items: StatsItem[] = [];
  let next = cursor;
  for (;;) {
    const page = await listStreamRecords(solutionId, limit, next, () => true);
    const enriched = await Promise.all(page.items.map(statsItem));
    for (let i = 0; i < enriched.length; i++) {
      if (!keep(enriched[i], filters)) continue;
      items.push(enriched[i]);
      if (items.length === limit) {
        const last = page.items[i];
        const more = i < enriched.length - 1 || page.nextCursor !== null;
        return {
          items,
          nextCursor: more ? encodeCursor({ PK: `STM#${last.id}`, SK: 'STREAM', GSI1PK: streamsPartition(solutionId), GSI1SK: last.id }) : null,
        };
      }
    }
    if (!page.nextCursor) return { items, nextCursor: null };
    next = page.nextCursor;
  }
}

export async function streamOffsets(principal: Principal, streamId: string) {
  const stream = await getStream(principal, streamId);
  const { offsets, updatedAt, runId } = await getStreamOffsets(streamId);
  return { streamId: stream.id, offsets, updatedAt, runId: runId ?? null };
}

export const offsetsReset = /* @__PURE__ */ lazySchema(() => z.object({ offsets: z.optional(z.record(z.string(), z.unknown())) }));

/**
 * An offset past what the source holds would skip what is appended later without a word
 * (an http-collector's packet past the stream's last one, or an entry of a packet not yet
 * there; a batch table-source's table past its list), and an s3-source reads only under
 * its own prefix: a key elsewhere is refused (without a connection, that is another
 * solution's folder of the Sluice bucket).
 */
async function checkWithinSource(stream: StreamRecord, definition: Definition, node: DefinitionNode, offset: Record<string, unknown>, path: string): Promise<void> {
  if (Object.keys(offset).length === 0) return;
  if (node.type === 'http-collector') {
    const last = (await getDataStatus(stream.id)).packetIndex;
    if ((offset.packet as number) > last) {
      throw invalid(`${path}.packet: the stream's last packet is ${last}; an offset can be at most that`, [{ path: `${path}.packet`, message: `at most ${last}, the stream's last packet` }]);
    }
    if (offset.packet === last && (offset.entry as number) > 0) {
      throw invalid(`${path}.entry: packet ${last} is the stream's last, so no entry of a later one can be read yet; entry must be 0`, [{ path: `${path}.entry`, message: 'must be 0 at the last packet' }]);
    }
  }
  if (node.type === 'table-source' && definition.mode === 'batch') {
    const tables = (node.config.tables as unknown[] | undefined)?.length ?? 1;
    if ((offset.table as number) > tables) {
      throw invalid(`${path}.table: the node reads ${tables} table${tables > 1 ? 's' : ''}; an offset can be at most ${tables} (all read)`, [{ path: `${path}.table`, message: `at most ${tables}` }]);
    }
  }
  if (node.type === 's3-source') {
    const prefix = s3SourcePrefix(stream.solutionId, node.config as { connectionId?: string; prefix?: string });
    if (!(offset.key as string).startsWith(prefix) && offset.key !== '') {
      throw invalid(`${path}.key: the node reads keys under ${JSON.stringify(prefix)}; ${JSON.stringify(offset.key)} is not one`, [{ path: `${path}.key`, message: `must start with ${prefix}` }]);
    }
  }
}

/**
 * Back to the beginning, or to the given offsets (per source node); only while no run is
 * active. Offsets are checked against the definition the next run runs: the deployed tag's,
 * else the autosaved one.
 */
export async function resetOffsets(principal: Principal, streamId: string, input: z.output<ReturnType<typeof offsetsReset>>) {
  const stream = await getStream(principal, streamId);
  const { definition } = await runnableVersion(stream);
  const offsets: Record<string, Record<string, unknown>> = {};
  for (const [nodeId, offset] of Object.entries(input.offsets ?? {})) {
    const node = definition.nodes.find((n) => n.id === nodeId);
    if (!node || !isSource(node.type)) throw invalid(`offsets.${nodeId}: the stream has no source node ${nodeId}`, [{ path: `offsets.${nodeId}`, message: 'not a source node of this stream' }]);
    offsets[nodeId] = parseSourceOffset(node, definition.mode, offset, `offsets.${nodeId}`);
    await checkWithinSource(stream, definition, node, offsets[nodeId], `offsets.${nodeId}`);
  }
  if (stream.activeRun || !(await resetStreamOffsets(streamId, offsets))) {
    const current = await getStreamRecord(streamId);
    throw conflict(`stream ${streamId} has an active run ${current?.activeRun?.id ?? ''} (${current?.activeRun?.status ?? 'running'}); offsets can only be reset while no run is active`);
  }
  return streamOffsets(principal, streamId);
}

export function aggregationStoreItems(solutionId: string, store: string, prefix: string | undefined, limit: number, cursor?: string): Promise<Page<AggregateItem>> {
  return listAggregates(solutionId, store, prefix, limit, cursor);
}
