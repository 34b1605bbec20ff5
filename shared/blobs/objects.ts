import type { Readable } from 'node:stream';
import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { bucketName, s3 } from './client.ts';

/** Presigned links live 5 minutes (API.md "Bodies"). */
export const PRESIGN_SECONDS = 300;

/** Every object of a stream lives under this prefix (DESIGN.md "S3 layout"), so deleting it is one prefix sweep. */
export const streamPrefix = (solutionId: string, streamId: string) => `solutions/${solutionId}/streams/${streamId}/`;

/** Each upload of a part gets its own object, so a re-upload never changes bytes a commit is reading. */
export const partObjectKey = (solutionId: string, streamId: string, executionId: string, partId: number, uploadId: string) =>
  `${streamPrefix(solutionId, streamId)}executions/${executionId}/parts/${partId}/${uploadId}`;

/** Immutable once the pointer names it; the writer's token keeps a stale writer from touching it. */
export const versionObjectKey = (solutionId: string, streamId: string, version: number, token: string) =>
  `${streamPrefix(solutionId, streamId)}datasets/${version}/data-${token}.csv`;

export async function putObject(key: string, body: Buffer | string, contentType: string, contentEncoding?: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucketName(), Key: key, Body: body, ContentType: contentType, ContentEncoding: contentEncoding }));
}

export async function headObject(key: string): Promise<{ bytes: number; contentEncoding?: string; contentType?: string } | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucketName(), Key: key }));
    return { bytes: head.ContentLength ?? 0, contentEncoding: head.ContentEncoding, contentType: head.ContentType };
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
    throw error;
  }
}

/** The object's bytes as a stream, from `fromByte` on. */
export async function readObject(key: string, fromByte = 0): Promise<Readable> {
  const result = await s3.send(new GetObjectCommand({ Bucket: bucketName(), Key: key, Range: fromByte > 0 ? `bytes=${fromByte}-` : undefined }));
  return result.Body as Readable;
}

export const presignPut = (key: string) => getSignedUrl(s3, new PutObjectCommand({ Bucket: bucketName(), Key: key }), { expiresIn: PRESIGN_SECONDS });

export const presignGet = (key: string, contentType: string, filename?: string) =>
  getSignedUrl(
    s3,
    new GetObjectCommand({
      Bucket: bucketName(),
      Key: key,
      ResponseContentType: contentType,
      ResponseContentDisposition: filename ? `attachment; filename="${filename}"` : undefined,
    }),
    { expiresIn: PRESIGN_SECONDS },
  );

/** Best effort: leftovers are also expired by the bucket's lifecycle rules. */
export async function deleteObjects(keys: string[]): Promise<void> {
  const queue = [...keys];
  const worker = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucketName(), Key: key })).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
}

/** Deletes up to 1,000 objects under `prefix` (one list, one multi-object delete) and answers how many it found: 0 means none are left. */
export async function deleteUnderPrefix(prefix: string): Promise<number> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucketName(), Prefix: prefix, MaxKeys: 1000 }));
  const keys = (listed.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
  if (keys.length === 0) return 0;
  const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucketName(), Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
  const failed = result.Errors ?? [];
  if (failed.length > 0) throw new Error(`S3 refused to delete ${failed.length} objects under ${prefix}: ${failed[0].Code} ${failed[0].Message ?? ''}`.trim());
  return keys.length;
}
