import { isSink, isSource } from '../model/definition.ts';
import type { NodeStats } from '../engine/types.ts';
import type { RunRecord } from '../store/runs.ts';

/**
 * Run statistics: per node `in`, `out`, `failed`, `bytesIn`, `bytesOut`
 * (every node of the run's definition, zero until it sees a record), and
 * totals: records in = what the sources read, out = what the sinks took,
 * failed = every node's failures. uptimeSeconds runs from start to end (or
 * now) less the time spent paused; avgRate = records in per uptime second.
 */
export interface RunStats {
  runId: string;
  streamId: string;
  status: string;
  nodes: NodeStats[];
  totals: { in: number; out: number; failed: number; bytesIn: number; bytesOut: number };
  uptimeSeconds: number;
  avgRate: number;
  startedAt: string;
  endedAt: string | null;
}

/** Time from start to end (or now), less the time spent paused: earlier pauses and the current one. */
export function runningMs(run: Pick<RunRecord, 'startedAt' | 'endedAt' | 'pausedAt' | 'pausedMs'>, now = Date.now()): number {
  const end = run.endedAt ? Date.parse(run.endedAt) : now;
  const pausedMs = (run.pausedMs ?? 0) + (run.pausedAt ? Math.max(0, end - Date.parse(run.pausedAt)) : 0);
  return Math.max(0, end - Date.parse(run.startedAt) - pausedMs);
}

export function runStats(run: RunRecord, now = Date.now()): RunStats {
  const seen = new Map(run.stats.map((s) => [s.nodeId, s]));
  const nodes = run.definition.nodes.map(
    (node) => seen.get(node.id) ?? { nodeId: node.id, type: node.type, in: 0, out: 0, failed: 0, bytesIn: 0, bytesOut: 0 },
  );
  const sources = nodes.filter((n) => isSource(n.type));
  const sinks = nodes.filter((n) => isSink(n.type));
  const sum = (list: NodeStats[], field: keyof Omit<NodeStats, 'nodeId' | 'type'>) => list.reduce((total, n) => total + n[field], 0);
  const uptimeSeconds = Math.round(runningMs(run, now) / 1000);
  const totals = { in: sum(sources, 'in'), out: sum(sinks, 'out'), failed: sum(nodes, 'failed'), bytesIn: sum(sources, 'bytesIn'), bytesOut: sum(sinks, 'bytesOut') };
  return {
    runId: run.id,
    streamId: run.streamId,
    status: run.status,
    nodes,
    totals,
    uptimeSeconds,
    avgRate: uptimeSeconds > 0 ? Math.round((totals.in / uptimeSeconds) * 100) / 100 : totals.in,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
  };
}
