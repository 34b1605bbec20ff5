import { isSluiceError } from '../../model/errors.ts';
import { TransientError } from '../errors.ts';
import type { DataRecord, NodeContext, SinkWriter } from '../types.ts';

/**
 * The `dataset` sink: each bundle's records are committed into the stream's
 * dataset through the datasets service, exactly once per (run, bundle) by the
 * token `{runId}/{bundle}` (a retried bundle finds its commit and writes
 * nothing new). REPLACE replaces the dataset with the run's first bundle and
 * appends the run's later bundles, so a finished run's output is the dataset;
 * APPEND and UPSERT apply per bundle.
 */
export interface DatasetWriter {
  commitRows(
    streamId: string,
    records: DataRecord[],
    options: { method: 'APPEND' | 'REPLACE' | 'UPSERT'; keyColumnNames?: string[]; token: string },
  ): Promise<{ bytes: number }>;
}

export function datasetSink(context: NodeContext, writer: DatasetWriter): SinkWriter {
  const method = (context.node.config.updateMethod as 'APPEND' | 'REPLACE' | 'UPSERT' | undefined) ?? 'APPEND';
  const keyColumnNames = context.node.config.keyColumnNames as string[] | undefined;
  return {
    async write(records, bundle) {
      const replaceNow = method === 'REPLACE' && bundle.bundle === 1;
      if (records.length === 0 && !replaceNow) return { bytes: 0 };
      try {
        const result = await writer.commitRows(context.stream.id, records, {
          method: replaceNow ? 'REPLACE' : method === 'REPLACE' ? 'APPEND' : method,
          keyColumnNames,
          token: `${bundle.runId}/${bundle.bundle}`,
        });
        return { bytes: result.bytes };
      } catch (error) {
        // A client holds the dataset's ACTIVE execution: wait for it (Step Functions retries).
        if (isSluiceError(error) && error.code === 'conflict') throw new TransientError(`dataset of ${context.stream.id}: ${error.message}`);
        throw error;
      }
    },
  };
}
