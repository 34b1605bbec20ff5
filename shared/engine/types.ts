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
