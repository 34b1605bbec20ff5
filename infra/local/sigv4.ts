import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Verifies an S3 presigned URL (SigV4 query authentication), as S3 does, so a
 * tampered or expired link is refused locally too. s3rver itself does not
 * check V4 signatures.
 */
const encode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

export type PresignCheck = { ok: true } | { ok: false; code: 'SignatureDoesNotMatch' | 'AccessDenied' | 'AuthorizationQueryParametersError'; message: string };

export function verifyPresignedUrl(
  method: string,
  rawUrl: string,
  headers: Record<string, string | string[] | undefined>,
  secretFor: (accessKeyId: string) => string | undefined,
  now = new Date(),
): PresignCheck {
  const [rawPath, rawQuery = ''] = rawUrl.split('?', 2);
  const pairs = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [k, v = ''] = pair.split('=', 2);
      return [decodeURIComponent(k.replace(/\+/g, ' ')), decodeURIComponent(v.replace(/\+/g, ' '))] as [string, string];
    });
  const query = new Map(pairs);
  const signature = query.get('X-Amz-Signature');
  const credential = query.get('X-Amz-Credential');
  const amzDate = query.get('X-Amz-Date');
  const signedHeaders = query.get('X-Amz-SignedHeaders');
  const expires = Number(query.get('X-Amz-Expires'));
  if (!signature || !credential || !amzDate || !signedHeaders || !Number.isFinite(expires)) {
    return { ok: false, code: 'AuthorizationQueryParametersError', message: 'incomplete SigV4 query parameters' };
  }
  const [accessKeyId, ...scopeParts] = credential.split('/');
  const secret = secretFor(accessKeyId);
  if (!secret) return { ok: false, code: 'SignatureDoesNotMatch', message: 'unknown access key' };
  const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (Number.isNaN(signedAt)) return { ok: false, code: 'AuthorizationQueryParametersError', message: 'bad X-Amz-Date' };
  if (now.getTime() > signedAt + expires * 1000) return { ok: false, code: 'AccessDenied', message: 'Request has expired' };

  const canonicalQuery = pairs
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [encode(k), encode(v)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => {
      const value = headers[name];
      return `${name}:${(Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonicalRequest = [method, rawPath, canonicalQuery, canonicalHeaders, signedHeaders, 'UNSIGNED-PAYLOAD'].join('\n');
  const scope = scopeParts.join('/');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const [date, region, service] = scopeParts;
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = Buffer.from(hmac(signingKey, stringToSign).toString('hex'));
  const provided = Buffer.from(signature);
  if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) {
    return { ok: false, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
  }
  return { ok: true };
}
