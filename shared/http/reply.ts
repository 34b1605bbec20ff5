import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export interface Reply {
  status: number;
  /** JSON unless a Buffer or string is given. */
  body?: unknown;
  headers?: Record<string, string>;
}

export const ok = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, headers });
export const created = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 201, body, headers });
export const noContent = (): Reply => ({ status: 204 });
export const redirect = (location: string): Reply => ({ status: 302, headers: { location, 'cache-control': 'no-store' } });

export const etagOf = (revision: number) => `"${revision}"`;

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'etag, location, x-request-id',
};

/** The HTTP API answer for a reply: CORS and request id headers, JSON unless the body is a Buffer or string. */
export function toResult(reply: Reply, requestId: string): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = { ...CORS_HEADERS, 'x-request-id': requestId, ...reply.headers };
  if (reply.body === undefined) return { statusCode: reply.status, headers };
  if (Buffer.isBuffer(reply.body)) {
    return { statusCode: reply.status, headers, body: reply.body.toString('base64'), isBase64Encoded: true };
  }
  if (typeof reply.body === 'string') return { statusCode: reply.status, headers, body: reply.body };
  return {
    statusCode: reply.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(reply.body),
  };
}

export const requestIdOf = (event: APIGatewayProxyEventV2) => event.requestContext?.requestId ?? 'local';
