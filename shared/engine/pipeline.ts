import type { Definition } from '../model/definition.ts';
import type { AggregateUpdate } from '../store/aggregates.ts';
import { RecordError, RunConfigurationError } from './errors.ts';
import { sinkFactory, sourceFactory } from './registry.ts';
import { filterTransform, GROUP, mapTransform, meterTransform, PARTIALS, mergePartial, type MeterRecord, type Transform } from './transforms.ts';
import type {
  BoundedSourceReader,
  BundleKey,
  DataRecord,
  NodeContext,
  NodeStats,
  SinkWriter,
  SourceOffset,
  TransactionalSink,
} from './types.ts';

/**
 * One run's node graph, built once per ProcessBundle invocation, and the
 * evaluation of one bundle through it: sources read after their offsets,
 * records flow along the edges in topological order, sinks receive theirs.
 * Evaluation has no side effects; `writeSinks` does the (idempotent) writes.
 */
export interface PipelineNode {
  id: string;
  type: string;
  name?: string;
  onError: 'skip' | 'fail';
  inputs: string[];
  source?: BoundedSourceReader;
  transform?: Transform;
  sink?: SinkWriter | TransactionalSink;
  /** aggregation-store nodes: the store they merge into. */
  store?: string;
}

export interface Pipeline {
  nodes: PipelineNode[];
}

export interface RecordFailureSample {
  code: string;
  nodeId: string;
  message: string;
  record?: string;
  at: string;
}

export interface BundleEvaluation {
  /** Entries the sources consumed (records and undecodable entries). */
  consumed: number;
  offsets: Record<string, SourceOffset>;
  /** Every source had nothing more to read (up to its bound in batch runs). */
  exhausted: boolean;
  stats: Map<string, NodeStats>;
  failures: RecordFailureSample[];
  sinkInputs: { node: PipelineNode; records: DataRecord[] }[];
  /** Aggregate updates per store, already merged per key. */
  storeUpdates: Map<string, AggregateUpdate[]>;
}

const sizes = new WeakMap<object, number>();
export function recordBytes(record: DataRecord): number {
  let size = sizes.get(record);
  if (size === undefined) {
    size = Buffer.byteLength(JSON.stringify(record));
    sizes.set(record, size);
  }
  return size;
}
const totalBytes = (records: DataRecord[]) => records.reduce((sum, r) => sum + recordBytes(r), 0);
const excerpt = (record: DataRecord) => {
  const text = JSON.stringify(record) ?? '';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
};

function topologicalOrder(definition: Definition): Definition['nodes'] {
  const incoming = new Map(definition.nodes.map((n) => [n.id, 0]));
  for (const edge of definition.edges) incoming.set(edge.to, (incoming.get(edge.to) ?? 0) + 1);
  const byId = new Map(definition.nodes.map((n) => [n.id, n]));
  const ready = definition.nodes.filter((n) => incoming.get(n.id) === 0).map((n) => n.id);
  const order: Definition['nodes'] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(byId.get(id)!);
    for (const edge of definition.edges.filter((e) => e.from === id)) {
      incoming.set(edge.to, incoming.get(edge.to)! - 1);
      if (incoming.get(edge.to) === 0) ready.push(edge.to);
    }
  }
  return order;
}

export async function buildPipeline(definition: Definition, base: Omit<NodeContext, 'node' | 'upstream'>): Promise<Pipeline> {
  const nodes: PipelineNode[] = [];
  for (const node of topologicalOrder(definition)) {
    const upstream = definition.edges
      .filter((edge) => edge.to === node.id)
      .map((edge) => definition.nodes.find((n) => n.id === edge.from)!)
      .map(({ id, type, config }) => ({ id, type, config }));
    const context: NodeContext = { ...base, node: { id: node.id, type: node.type, name: node.name, config: node.config }, upstream };
    const entry: PipelineNode = {
      id: node.id,
      type: node.type,
      name: node.name,
      onError: node.config.onError === 'fail' ? 'fail' : 'skip',
      inputs: definition.edges.filter((e) => e.to === node.id).map((e) => e.from),
    };
    switch (node.type) {
      case 'filter':
        entry.transform = filterTransform(context);
        break;
      case 'map':
        entry.transform = mapTransform(context);
        break;
      case 'meter':
        entry.transform = meterTransform(context);
        break;
      case 'aggregation-store':
        entry.store = node.name!;
        break;
      default: {
        const source = sourceFactory(node.type);
        const sink = sinkFactory(node.type);
        if (source) entry.source = await source(context);
        else if (sink) entry.sink = await sink(context);
        else throw new RunConfigurationError(`node ${node.id}: the engine cannot run ${node.type} nodes yet`);
      }
    }
    nodes.push(entry);
  }
  return { nodes };
}

/** Where each source starts: its committed offset, or undefined for the beginning (`{}`, what a source that has read nothing commits). */
const startOf = (offsets: Record<string, SourceOffset>, nodeId: string): SourceOffset | undefined => {
  const offset = offsets[nodeId];
  return offset && Object.keys(offset).length > 0 ? offset : undefined;
};

/** Each source's bound for a batch run starting from `offsets`. */
export async function boundsOf(pipeline: Pipeline, offsets: Record<string, SourceOffset>): Promise<Record<string, SourceOffset | null>> {
  const bounds: Record<string, SourceOffset | null> = {};
  for (const node of pipeline.nodes) if (node.source) bounds[node.id] = node.source.bound ? await node.source.bound(startOf(offsets, node.id)) : null;
  return bounds;
}

const emptyStats = (node: PipelineNode): NodeStats => ({ nodeId: node.id, type: node.type, in: 0, out: 0, failed: 0, bytesIn: 0, bytesOut: 0 });

export async function evaluateBundle(
  pipeline: Pipeline,
  state: { offsets: Record<string, SourceOffset>; bounds?: Record<string, SourceOffset | null> },
  max: number,
): Promise<BundleEvaluation> {
  const outputs = new Map<string, DataRecord[]>();
  const stats = new Map<string, NodeStats>();
  const failures: RecordFailureSample[] = [];
  const sinkInputs: BundleEvaluation['sinkInputs'] = [];
  const storeRecords = new Map<string, DataRecord[]>();
  const offsets: Record<string, SourceOffset> = {};
  let consumed = 0;
  let exhausted = true;
  const at = new Date().toISOString();

  for (const node of pipeline.nodes) {
    const stat = emptyStats(node);
    stats.set(node.id, stat);
    const nodeFailures: RecordFailureSample[] = [];
    const fail = (message: string, record?: string) => nodeFailures.push({ code: 'record_failed', nodeId: node.id, message, record, at });

    if (node.source) {
      const batch = await node.source.read(startOf(state.offsets, node.id), max, state.bounds?.[node.id]);
      const bad = batch.failures ?? [];
      for (const f of bad) fail(f.message, f.record);
      stat.in = batch.records.length + bad.length;
      stat.out = batch.records.length;
      stat.bytesIn = batch.bytes;
      stat.bytesOut = totalBytes(batch.records);
      consumed += stat.in;
      exhausted &&= batch.exhausted;
      offsets[node.id] = batch.offset;
      outputs.set(node.id, batch.records);
    } else {
      const input = node.inputs.flatMap((id) => outputs.get(id) ?? []);
      stat.in = input.length;
      stat.bytesIn = totalBytes(input);
      if (node.transform) {
        const out = await node.transform.apply(input, (record, message) => fail(message, excerpt(record)));
        stat.out = out.length;
        stat.bytesOut = totalBytes(out);
        outputs.set(node.id, out);
      } else if (node.store) {
        const good = input.filter((record) => {
          if ((record as MeterRecord)[PARTIALS]) return true;
          fail('aggregation-store: the record does not come from a meter', excerpt(record));
          return false;
        });
        storeRecords.set(node.store, [...(storeRecords.get(node.store) ?? []), ...good]);
        stat.out = good.length;
        stat.bytesOut = totalBytes(good);
      } else if (node.sink) {
        sinkInputs.push({ node, records: input });
        stat.out = input.length; // adjusted by writeSinks with the bytes written
        stat.bytesOut = stat.bytesIn;
      }
    }
    stat.failed = nodeFailures.length;
    if (nodeFailures.length > 0 && node.onError === 'fail') throw new RecordError(node.id, nodeFailures[0].message);
    failures.push(...nodeFailures);
  }

  const storeUpdates = new Map<string, AggregateUpdate[]>();
  for (const [store, records] of storeRecords) {
    const byKey = new Map<string, AggregateUpdate>();
    for (const record of records as MeterRecord[]) {
      const { key, group } = record[GROUP]!;
      const partials = record[PARTIALS]!;
      const entry = byKey.get(key) ?? { key, group, partials: {} };
      for (const [name, partial] of Object.entries(partials)) entry.partials[name] = mergePartial(entry.partials[name], partial);
      byKey.set(key, entry);
    }
    storeUpdates.set(store, [...byKey.values()]);
  }
  return { consumed, offsets, exhausted, stats, failures, sinkInputs, storeUpdates };
}

/** Writes the non-transactional sinks, keyed by (run, bundle) so a retry overwrites. */
export async function writeSinks(evaluation: BundleEvaluation, bundle: BundleKey): Promise<void> {
  for (const { node, records } of evaluation.sinkInputs) {
    const sink = node.sink as SinkWriter;
    const { bytes } = await sink.write(records, bundle);
    evaluation.stats.get(node.id)!.bytesOut = bytes;
  }
}

export const storeItemCount = (evaluation: BundleEvaluation) => [...evaluation.storeUpdates.values()].reduce((n, u) => n + u.length, 0);

export async function closePipeline(pipeline: Pipeline): Promise<void> {
  for (const node of pipeline.nodes) {
    await node.source?.close?.().catch(() => undefined);
    await (node.sink as SinkWriter | undefined)?.close?.().catch(() => undefined);
  }
}
