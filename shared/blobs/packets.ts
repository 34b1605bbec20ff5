import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { encode } from '@msgpack/msgpack';
import { bucketName, s3 } from './client.ts';
import { streamPrefix } from './objects.ts';

/** Packets are content addressed: a retried or duplicated write lands on the same object. */
export const packetObjectKey = (solutionId: string, streamId: string, sha256: string) => `${streamPrefix(solutionId, streamId)}packets/${sha256}`;
export const bundleKey = (solutionId: string, streamId: string, start: number, stop: number) =>
  `${streamPrefix(solutionId, streamId)}bundles/${start}-${stop}.msgpack`;

export const DOWNLOAD_URL_SECONDS = 300;

export const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export async function putPacketObject(key: string, bytes: Buffer, contentType: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucketName(), Key: key, Body: bytes, ContentType: contentType, ContentLength: bytes.length }));
}

export async function getObjectBytes(key: string): Promise<Buffer> {
  const result = await s3.send(new GetObjectCommand({ Bucket: bucketName(), Key: key }));
  return Buffer.from(await result.Body!.transformToByteArray());
}

/** The stream name a built bundle was encoded with, or undefined when there is no bundle. */
export async function bundleStreamName(key: string): Promise<string | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucketName(), Key: key }));
    return decodeURIComponent(head.Metadata?.['stream-name'] ?? '');
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
    throw error;
  }
}

export interface BundlePacket {
  index: number;
  objectKey: string;
}

/** Packets fetched ahead of the encoder while the upload drains (bounded). */
const PREFETCH = 4;
const PART_SIZE = 8 * 1024 * 1024;
const UPLOAD_QUEUE = 2;

/**
 * Builds the MessagePack bundle `[streamName, index, bytes]` per packet, in
 * index order, streaming from the packet objects to one multipart upload.
 * Memory stays bounded whatever the range: PREFETCH packets (each <= 5 MiB)
 * plus UPLOAD_QUEUE parts of PART_SIZE, never the whole bundle.
 */
export async function buildBundle(key: string, streamName: string, packets: AsyncIterable<BundlePacket>): Promise<{ packets: number; bytes: number }> {
  const body = new PassThrough({ highWaterMark: PART_SIZE });
  const upload = new Upload({
    client: s3,
    params: {
      Bucket: bucketName(),
      Key: key,
      Body: body,
      ContentType: 'application/x-msgpack',
      Metadata: { 'stream-name': encodeURIComponent(streamName) },
    },
    partSize: PART_SIZE,
    queueSize: UPLOAD_QUEUE,
    leavePartsOnError: false,
  });
  const done = upload.done();
  // Keep a rejection from going unhandled while the producer is still writing.
  done.catch(() => undefined);
  let count = 0;
  let bytes = 0;
  try {
    const window: Promise<{ index: number; bytes: Buffer }>[] = [];
    const fetch = (packet: BundlePacket) => getObjectBytes(packet.objectKey).then((data) => ({ index: packet.index, bytes: data }));
    const emit = async (packet: { index: number; bytes: Buffer }) => {
      const encoded = encode([streamName, packet.index, packet.bytes]);
      count++;
      bytes += encoded.length;
      if (!body.write(encoded)) await Promise.race([once(body, 'drain'), done]);
    };
    for await (const packet of packets) {
      window.push(fetch(packet));
      if (window.length >= PREFETCH) await emit(await window.shift()!);
    }
    while (window.length) await emit(await window.shift()!);
    body.end();
  } catch (error) {
    body.destroy(error as Error);
    await upload.abort().catch(() => undefined);
    throw error;
  }
  await done;
  return { packets: count, bytes };
}

export async function presignDownload(key: string, filename: string): Promise<string> {
  return getSignedUrl(
    s3,
    new GetObjectCommand({ Bucket: bucketName(), Key: key, ResponseContentDisposition: `attachment; filename="${filename}"` }),
    { expiresIn: DOWNLOAD_URL_SECONDS },
  );
}
