import { decodeMulti } from '@msgpack/msgpack';
import { expect, inject } from 'vitest';

export const baseUrl = () => inject('sluiceUrl');
export const adminKey = () => inject('adminKey');

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw bytes or text sent as is. */
  raw?: Buffer | string;
}

/** One HTTP call through the local gateway, as any client makes it. Redirects are not followed. */
export async function api<T = any>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? adminKey() : options.key;
  if (key && !Object.keys(headers).some((h) => ['authorization', 'x-api-key'].includes(h.toLowerCase()))) headers['x-api-key'] = key;
  let body: RequestInit["body"] | undefined;
  if (options.raw !== undefined) body = options.raw as RequestInit["body"];
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl()}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** Follows a `/data` redirect and decodes the bundle: `[streamName, packetIndex, bytes]` per packet. */
export async function fetchBundle(location: string) {
  const response = await fetch(location);
  expect(response.status).toBe(200);
  const body = Buffer.from(await response.arrayBuffer());
  return [...decodeMulti(body)] as [string, number, Uint8Array][];
}

/** `api` that keeps every response, so a test can check what none of them may contain (passwords). */
export function recordingApi() {
  const seen: ApiResponse[] = [];
  const call = async (method: string, path: string, options: CallOptions = {}) => {
    const res = await api(method, path, options);
    seen.push(res);
    return res;
  };
  return { call, seen };
}

/** A fresh solution with a key holding the given scopes: tests stay independent of each other. */
export async function newTenant(scopes: string[] = ['streams:read', 'streams:write', 'runs:write', 'data:read', 'data:write']) {
  const solution = await api('POST', '/v1/solutions', { body: { name: `t-${Math.random().toString(36).slice(2, 8)}` } });
  if (solution.status !== 201) throw new Error(`solution: ${solution.status} ${solution.text}`);
  const key = await api('POST', '/v1/keys', { body: { name: 'test', scopes, solutionId: solution.body.id } });
  if (key.status !== 201) throw new Error(`key: ${key.status} ${key.text}`);
  return { solution: solution.body as { id: string; homeId: number; name: string }, key: key.body.key as string, keyId: key.body.id as string };
}

export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

/** A stream with an http-collector, in a fresh solution. */
export async function packetStream(namespace = 'default') {
  const tenant = await newTenant();
  const stream = await api('POST', '/v1/streams', {
    key: tenant.key,
    body: {
      name: unique('pkt'),
      namespace,
      definition: {
        mode: 'continuous',
        nodes: [
          { id: 'in', type: 'http-collector', name: 'in', config: {} },
          { id: 'out', type: 'packet-sink', config: { streamId: 'stm_01J00000000000000000000000' } },
        ],
        edges: [{ from: 'in', to: 'out' }],
      },
    },
  });
  if (stream.status !== 201) throw new Error(`stream: ${stream.status} ${stream.text}`);
  return { ...tenant, stream: stream.body as { id: string; name: string; namespace: string } };
}
