import { request } from 'node:http';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { benchClient, type BenchContext } from './client.ts';

/**
 * Datasets: a 100 MB upload in 10 parts of 10 MB (presigned PUTs, as parts
 * over 5 MiB must) committed through the local gateway, against raw S3
 * PutObject of the same bytes from this process; and the commit's peak memory.
 * The local runtime runs handlers in this process, so RSS sampled here
 * includes the commit's (baseline taken just before it).
 */
const PARTS = Number(process.env.BENCH_DATASET_PARTS ?? 10);
const PART_BYTES = Number(process.env.BENCH_DATASET_PART_MB ?? 10) * 1024 * 1024;

/** Part i's bytes: deterministic CSV rows, cut at a row boundary near PART_BYTES. */
function partBytes(i: number): Buffer {
  const rows: string[] = [];
  let size = 0;
  for (let r = 0; size < PART_BYTES - 200; r++) {
    const row = `${i * 1_000_000 + r},customer-${(r * 7919) % 100_000},${(r * 3.14159).toFixed(3)},2026-11-22T01:00:00Z,"text, with a comma ${r}"\n`;
    rows.push(row);
    size += row.length;
  }
  return Buffer.from(rows.join(''));
}

/** A presigned PUT with node:http, as the SDK's own transport does (no web-stream copying). */
function putTo(url: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(url), { method: 'PUT', headers: { 'content-length': body.length, 'content-type': 'text/csv' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export default async function datasetsBench(ctx: BenchContext) {
  const { call, solutionKey } = benchClient(ctx);
  const key = await solutionKey('bench-datasets', ['streams:write', 'streams:read', 'data:write', 'data:read']);
  const stream = (await call(key, 'POST', '/v1/streams', { body: { name: `bench-${Date.now()}` } })).body.id;

  // Through the gateway: open, 10 presigned part uploads, commit. Generating a
  // part's bytes is outside the timed spans, as it is for the raw PutObjects.
  let uploadSeconds = 0;
  let t = performance.now();
  const execution = (await call(key, 'POST', `/v1/streams/${stream}/executions`, { body: {} })).body.id;
  uploadSeconds += (performance.now() - t) / 1000;
  let total = 0;
  for (let i = 1; i <= PARTS; i++) {
    const bytes = partBytes(i);
    total += bytes.length;
    t = performance.now();
    const url = (await call(key, 'POST', `/v1/streams/${stream}/executions/${execution}/parts/${i}/upload-url`)).body.url;
    const status = await putTo(url, bytes);
    if (status !== 200) throw new Error(`part ${i}: ${status}`);
    uploadSeconds += (performance.now() - t) / 1000;
  }
  const uploaded = performance.now();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const committed = await call(key, 'POST', `/v1/streams/${stream}/executions/${execution}/commit`);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const finished = performance.now();
  if (committed.body.state !== 'SUCCESS') throw new Error(`commit: ${JSON.stringify(committed.body)}`);
  const commitSeconds = (finished - uploaded) / 1000;
  const viaGateway = total / 1e6 / (uploadSeconds + commitSeconds);

  // Raw S3: the same bytes, one PutObject per part, from this process.
  const s3 = new S3Client({
    endpoint: ctx.env.AWS_ENDPOINT_URL_S3,
    region: ctx.env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ctx.env.AWS_ACCESS_KEY_ID, secretAccessKey: ctx.env.AWS_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  let rawSeconds = 0;
  for (let i = 1; i <= PARTS; i++) {
    const bytes = partBytes(i);
    const t = performance.now();
    await s3.send(new PutObjectCommand({ Bucket: ctx.env.BUCKET_NAME, Key: `bench/raw/${Date.now()}/${i}`, Body: bytes }));
    rawSeconds += (performance.now() - t) / 1000;
  }
  const raw = total / 1e6 / rawSeconds;

  return {
    name: 'Datasets',
    rows: [
      { metric: `upload + commit of ${(total / 1e6).toFixed(0)} MB in ${PARTS} presigned parts, through the gateway`, value: +viaGateway.toFixed(1), unit: 'MB/s' },
      { metric: 'raw S3 PutObject of the same bytes, one process', value: +raw.toFixed(1), unit: 'MB/s' },
      { metric: 'ratio gateway / raw', value: +(viaGateway / raw).toFixed(2), unit: 'x' },
      { metric: 'open + part uploads (upload-url + presigned PUT)', value: +uploadSeconds.toFixed(2), unit: 's' },
      { metric: 'raw PutObjects', value: +rawSeconds.toFixed(2), unit: 's' },
      { metric: 'commit (verify parts with csv-parse, write the version, atomic switch)', value: +commitSeconds.toFixed(2), unit: 's' },
      { metric: 'commit throughput', value: +(total / 1e6 / commitSeconds).toFixed(1), unit: 'MB/s' },
      { metric: 'peak RSS growth during the commit', value: +((peak - baseline) / 1024 / 1024).toFixed(0), unit: 'MiB' },
      { metric: 'peak RSS during the commit (whole local runtime process)', value: +(peak / 1024 / 1024).toFixed(0), unit: 'MiB' },
    ],
  };
}
