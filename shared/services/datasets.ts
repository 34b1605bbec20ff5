import { presignGet } from '../blobs/objects.ts';
import { notFound } from '../model/errors.ts';
import type { Principal } from '../model/principal.ts';
import { getDatasetPointer, type DatasetPointer } from '../store/datasets.ts';
import { getStream } from './streams.ts';

/** A stream's dataset as clients read it. What the run engine writes and reads is in dataset-engine.ts. */

/** `GET /v1/streams/{id}/dataset`. */
export async function getDataset(principal: Principal, streamId: string): Promise<DatasetPointer> {
  await getStream(principal, streamId);
  return getDatasetPointer(streamId);
}

/** A presigned GET of the current version's CSV (immutable per version). */
export async function datasetDownloadUrl(principal: Principal, streamId: string): Promise<{ url: string; version: number }> {
  await getStream(principal, streamId);
  const pointer = await getDatasetPointer(streamId);
  if (!pointer.version || !pointer.objectKey) throw notFound(`a committed dataset version of stream ${streamId}`);
  return { url: await presignGet(pointer.objectKey, 'text/csv; charset=utf-8', `${streamId}-v${pointer.version}.csv`), version: pointer.version };
}
