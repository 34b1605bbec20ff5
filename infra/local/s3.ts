import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';
import { verifyPresignedUrl } from './sigv4.ts';

/** s3rver accepts exactly this key pair; the local runtime hands it to every SDK client. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface RunningS3 {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * s3rver 3.7 makes ListObjectsV2 continuation tokens with DES, which Node's
 * OpenSSL 3 no longer has: every truncated V2 listing answered 500. Tokens are
 * made here instead (the last key listed, base64url): a request's token becomes
 * `start-after`, s3rver's store is asked with its answer marked not truncated
 * (so it makes no token), and the token goes into the XML it produced.
 */
const continuationTokens = async (ctx: any, next: () => Promise<void>) => {
  if (ctx.method !== 'GET' || ctx.query['list-type'] !== '2') return next();
  const token = ctx.query['continuation-token'];
  if (typeof token === 'string') {
    const { 'continuation-token': _, ...query } = ctx.query;
    ctx.query = { ...query, 'start-after': Buffer.from(token, 'base64url').toString('utf8') };
  }
  let lastKey: string | undefined;
  const store = ctx.store;
  ctx.store = Object.create(store, {
    listObjects: {
      value: async (bucket: string, options: unknown) => {
        const result = await store.listObjects(bucket, options);
        if (result.isTruncated) lastKey = result.objects.at(-1)?.key;
        return { ...result, isTruncated: false };
      },
    },
  });
  await next();
  if (lastKey !== undefined && typeof ctx.body === 'string') {
    const continuation = Buffer.from(lastKey, 'utf8').toString('base64url');
    ctx.body = ctx.body.replace('<IsTruncated>false</IsTruncated>', `<IsTruncated>true</IsTruncated><NextContinuationToken>${continuation}</NextContinuationToken>`);
  }
};

/**
 * An S3-compatible server on loopback. A middleware placed in front of
 * s3rver's own checks the SigV4 signature and expiry of every presigned URL.
 */
export async function startS3(options: { port: number; dataDir: string; buckets: string[] }): Promise<RunningS3> {
  mkdirSync(options.dataDir, { recursive: true });
  const server = new S3rver({
    port: options.port,
    address: '127.0.0.1',
    directory: options.dataDir,
    silent: true,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const verifyPresigned = async (ctx: any, next: () => Promise<void>) => {
    if (typeof ctx.query['X-Amz-Signature'] === 'string') {
      const check = verifyPresignedUrl(ctx.method, ctx.originalUrl, ctx.headers, (id) =>
        id === LOCAL_S3_CREDENTIALS.accessKeyId ? LOCAL_S3_CREDENTIALS.secretAccessKey : undefined,
      );
      if (!check.ok) {
        ctx.status = 403;
        ctx.type = 'application/xml';
        ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${check.code}</Code><Message>${check.message}</Message></Error>`;
        return;
      }
    }
    await next();
  };
  (server as unknown as { middleware: unknown[] }).middleware.unshift(verifyPresigned, continuationTokens);
  await server.run();
  return {
    endpoint: `http://127.0.0.1:${options.port}`,
    stop: () => server.close(),
  };
}
