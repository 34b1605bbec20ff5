import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchClient, type BenchContext } from './client.ts';

/**
 * Packets benchmark (issue 4), run by `npm run bench` against a local runtime:
 * 1. packets/s appended through the local gateway (20 concurrent writers) next
 *    to the same number of raw S3 PutObject + DynamoDB PutItem pairs from this
 *    process with the same concurrency, and their ratio;
 * 2. time and peak memory to build a 100 MB bundle (100 x 1 MiB packets),
 *    built in a child process so the memory figure is the build's alone.
 */
const execFileAsync = promisify(execFile);
const APPENDS = Number(process.env.BENCH_PACKETS ?? 400);
const WRITERS = 20;
const PACKET_BYTES = 1024;
const BIG_PACKETS = 100;
const BIG_PACKET_BYTES = 1024 * 1024;

async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

export default async function packetsBench(ctx: BenchContext) {
  // Handlers and SDK clients of this process talk to the runtime's emulators.
  Object.assign(process.env, ctx.env);
  const { call, solutionKey } = benchClient(ctx);
  const key = await solutionKey(`bench-${Date.now()}`, ['streams:write', 'streams:read', 'data:write', 'data:read']);
  const stream = (await call(key, 'POST', '/v1/streams', { body: { name: `bench-${Date.now()}` } })).body;

  const payload = randomBytes(PACKET_BYTES);
  let started = performance.now();
  await pool(APPENDS, WRITERS, async (i) => {
    await call(key, 'POST', `/v1/streams/${stream.id}/packets`, { raw: Buffer.concat([Buffer.from(`${i}:`), payload]), type: 'application/octet-stream' });
  });
  const gatewaySeconds = (performance.now() - started) / 1000;

  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient, PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const s3 = new S3Client({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  started = performance.now();
  await pool(APPENDS, WRITERS, async (i) => {
    const objectKey = `bench/raw/${stream.id}/${i}`;
    await s3.send(new PutObjectCommand({ Bucket: ctx.env.BUCKET_NAME, Key: objectKey, Body: Buffer.concat([Buffer.from(`${i}:`), payload]) }));
    await ddb.send(new PutCommand({ TableName: ctx.env.TABLE_NAME, Item: { PK: `BENCH#${stream.id}`, SK: String(i).padStart(12, '0'), objectKey, size: PACKET_BYTES } }));
  });
  const rawSeconds = (performance.now() - started) / 1000;

  // 100 x 1 MiB packets, then one bundle of all of them built in this process.
  const big = (await call(key, 'POST', '/v1/streams', { body: { name: `bench-big-${Date.now()}` } })).body;
  const mib = randomBytes(BIG_PACKET_BYTES);
  await pool(BIG_PACKETS, 4, async (i) => {
    const bytes = Buffer.from(mib);
    bytes.writeUInt32BE(i, 0);
    await call(key, 'POST', `/v1/streams/${big.id}/packets`, { raw: bytes, type: 'application/octet-stream' });
  });
  // Asynchronous: the local runtime's S3 server may live in this very process.
  // Built twice: as deployed (time, RSS), then with --expose-gc collecting every
  // 50 ms (what the build really holds, V8's lazy collection aside).
  const child = resolve(dirname(fileURLToPath(import.meta.url)), 'packets-bundle-child.ts');
  const buildOnce = async (flags: string[], suffix: string) => {
    const { stdout } = await execFileAsync(
      process.execPath,
      [...flags, child, big.id, big.name, '1', String(BIG_PACKETS), `bench/bundles/${big.id}-1-${BIG_PACKETS}-${suffix}.msgpack`],
      { env: { ...process.env, ...ctx.env }, encoding: 'utf8', maxBuffer: 1024 * 1024, timeout: 600_000 },
    );
    return JSON.parse(stdout) as { packets: number; bytes: number; seconds: number; baselineRssMiB: number; peakRssMiB: number; peakLiveMiB: number };
  };
  const built = await buildOnce([], 'plain');
  const collected = await buildOnce(['--expose-gc'], 'gc');
  const MiB = 1024 * 1024;
  return {
    name: 'Packets',
    rows: [
      { metric: `append through the gateway (${APPENDS} x ${PACKET_BYTES} B, ${WRITERS} writers)`, value: +(APPENDS / gatewaySeconds).toFixed(1), unit: 'packets/s' },
      { metric: `raw S3 PutObject + DynamoDB PutItem (same count and concurrency)`, value: +(APPENDS / rawSeconds).toFixed(1), unit: 'packets/s' },
      { metric: 'gateway / raw', value: +(rawSeconds / gatewaySeconds).toFixed(3), unit: 'ratio' },
      { metric: `build a bundle of ${built.packets} x 1 MiB packets (${(built.bytes / MiB).toFixed(1)} MiB)`, value: +built.seconds.toFixed(2), unit: 's' },
      { metric: 'bundle build throughput', value: +(built.bytes / MiB / built.seconds).toFixed(1), unit: 'MiB/s' },
      { metric: 'builder process peak RSS (child process, all of Node + SDK included)', value: +built.peakRssMiB.toFixed(1), unit: 'MiB' },
      { metric: 'builder RSS growth during the build (peak - RSS before it)', value: +(built.peakRssMiB - built.baselineRssMiB).toFixed(1), unit: 'MiB' },
      { metric: 'builder live memory peak, collected every 50 ms (heap + buffers, SDK included)', value: +collected.peakLiveMiB.toFixed(1), unit: 'MiB' },
    ],
  };
}
