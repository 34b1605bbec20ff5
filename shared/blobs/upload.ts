import type { Readable } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import { bucketName, s3 } from './client.ts';

/**
 * Streams a body of unknown length into one object with a multipart upload:
 * at most `queueSize` parts of `partSize` bytes are in memory at a time.
 * Apart from objects.ts so that only dataset assembly, itself loaded on a
 * commit's first use, reaches lib-storage.
 */
export async function uploadStream(key: string, body: Readable, contentType: string): Promise<void> {
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucketName(), Key: key, Body: body, ContentType: contentType },
    partSize: 8 * 1024 * 1024,
    queueSize: 2,
    leavePartsOnError: false,
  });
  await upload.done();
}
