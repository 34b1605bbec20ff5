import { RunConfigurationError } from '../errors.ts';
import type { BoundedSourceReader, DataRecord, NodeContext } from '../types.ts';

/**
 * The `dataset-source`: rows of a stream's dataset (its own, or
 * `config.streamId` of the same solution), offset `{version, row, byte}` as
 * the datasets service defines it. A batch run drains the rows that existed
 * when it started (its bound is the row count then).
 */
export interface DatasetReader {
  readDatasetRows(
    streamId: string,
    offset: { version: number; row: number; byte: number } | undefined,
    max: number,
  ): Promise<{ records: DataRecord[]; offset: { version: number; row: number; byte: number }; bytes: number; exhausted: boolean }>;
  datasetRowCount(streamId: string): Promise<number>;
  streamSolution(streamId: string): Promise<string | undefined>;
}

export async function datasetSource(context: NodeContext, reader: DatasetReader): Promise<BoundedSourceReader> {
  const streamId = (context.node.config.streamId as string | undefined) ?? context.stream.id;
  if (streamId !== context.stream.id && (await reader.streamSolution(streamId)) !== context.stream.solutionId) {
    throw new RunConfigurationError(`node ${context.node.id}: stream ${streamId} does not exist`);
  }
  return {
    async bound() {
      return { row: await reader.datasetRowCount(streamId) };
    },
    async read(offset, max, until) {
      const at = offset as { version: number; row: number; byte: number } | undefined;
      const room = until ? Number(until.row) - (at?.row ?? 0) : max;
      if (room <= 0) return { records: [], offset: offset ?? {}, bytes: 0, exhausted: true };
      const rows = await reader.readDatasetRows(streamId, at, Math.min(max, room));
      const exhausted = rows.exhausted || (until !== undefined && until !== null && rows.offset.row >= Number(until.row));
      return { records: rows.records, offset: { ...rows.offset }, bytes: rows.bytes, exhausted };
    },
  };
}
