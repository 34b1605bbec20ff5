/**
 * The run engine's node contracts. A run processes its definition in bundles:
 * each source reads up to `dataBundleSize` records after its committed offset,
 * records flow through the transforms, sinks write them keyed by
 * (run, bundle) so a retried bundle overwrites instead of duplicating, and the
 * new offsets are committed with the bundle's marker.
 */
export type DataRecord = Record<string, unknown>;

/** Opaque, JSON-serialisable position of a source (packet index, table key, LSN, binlog position, S3 key). */
export type SourceOffset = Record<string, unknown>;

export interface BundleKey {
  runId: string;
  streamId: string;
  solutionId: string;
  /** 1, 2, 3... within a run; the same number on a retry of the same bundle. */
  bundle: number;
}

export interface SourceBatch {
  records: DataRecord[];
  /** Where the next read continues from once this bundle is committed. */
  offset: SourceOffset;
  bytes: number;
  /** True when the source had nothing more to read right now. */
  exhausted: boolean;
}

export interface SourceReader {
  read(offset: SourceOffset | undefined, max: number): Promise<SourceBatch>;
  close?(): Promise<void>;
}

export interface SinkWriter {
  /** Idempotent per bundle: writing the same bundle twice leaves one copy. */
  write(records: DataRecord[], bundle: BundleKey): Promise<{ bytes: number }>;
  close?(): Promise<void>;
}

export interface NodeStats {
  nodeId: string;
  type: string;
  in: number;
  out: number;
  failed: number;
  bytesIn: number;
  bytesOut: number;
}

// --- Additions by the runs work (additive: existing implementations stay valid) ---

/** What a node factory knows about where it runs. */
export interface NodeContext {
  node: { id: string; type: string; name?: string; config: Record<string, unknown> };
  /** The nodes with an edge into this one, as the definition gives them. */
  upstream: { id: string; type: string; config: Record<string, unknown> }[];
  stream: { id: string; solutionId: string };
  runId: string;
  mode: 'batch' | 'continuous';
}

/** A record a node could not handle: counted in the node's `failed`, a sample kept on the run. */
export interface RecordFailure {
  message: string;
  /** A short excerpt of the record, for the error sample. */
  record?: string;
}

export interface SourceBatchFailures {
  /** Records the source read but could not decode (a bad NDJSON line): counted as failed at the source. */
  failures?: RecordFailure[];
}

/**
 * Optional source capabilities. `bound(from)` gives the position the source stands
 * at when a batch run starts (reading from `from`, its committed offset); the engine
 * then passes it to `read` as `until` and the run finishes once every source has
 * reached its bound.
 */
export interface BoundedSourceReader extends SourceReader {
  bound?(from?: SourceOffset): Promise<SourceOffset | null>;
  read(offset: SourceOffset | undefined, max: number, until?: SourceOffset | null): Promise<SourceBatch & SourceBatchFailures>;
}

/**
 * A sink whose effects commit in the bundle's own transaction (aggregates):
 * it answers DynamoDB TransactWriteItems entries instead of writing, so the
 * effects, the bundle marker and the new offsets are applied together or not
 * at all. `maxItems` is what the transaction has room for.
 */
export interface TransactionalSink {
  transactional: true;
  prepare(records: DataRecord[], bundle: BundleKey): Promise<{ items: Record<string, unknown>[]; bytes: number }>;
}

export type SourceFactory = (context: NodeContext) => BoundedSourceReader | Promise<BoundedSourceReader>;
export type SinkFactory = (context: NodeContext) => SinkWriter | TransactionalSink | Promise<SinkWriter | TransactionalSink>;
