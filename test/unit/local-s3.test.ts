import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '#infra/local/ports.ts';
import { LOCAL_S3_CREDENTIALS, startS3 } from '#infra/local/s3.ts';

/** The local runtime's S3 pages ListObjectsV2 with its own continuation tokens (s3rver's need DES, which Node's OpenSSL lacks). */
describe('the local S3 server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-s3-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers a truncated listing with a token that continues where the page ended', async () => {
    const server = await startS3({ port: await freePort(), dataDir: dir, buckets: ['pages'] });
    const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_S3_CREDENTIALS });
    try {
      const keys = ['a/1', 'a/2', 'a/3', 'a/4', 'a/5', 'b/1'];
      for (const Key of keys) await client.send(new PutObjectCommand({ Bucket: 'pages', Key, Body: Key }));
      const listed: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: 'pages', Prefix: 'a/', MaxKeys: 2, ContinuationToken: token }));
        listed.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
        pages++;
      } while (token);
      expect(listed).toEqual(['a/1', 'a/2', 'a/3', 'a/4', 'a/5']);
      expect(pages).toBe(3);
    } finally {
      client.destroy();
      await server.stop();
    }
  });
});
