import { describe, expect, it, vi } from 'vitest';
import { errorBody } from '#shared/http/faces.ts';
import { conflict, invalid, unavailable } from '#shared/model/errors.ts';
import { mergePatch } from '#shared/model/merge-patch.ts';
import { decodeCursor, encodeCursor } from '#shared/store/pagination.ts';
import { presentedKey, keyIdOf } from '#shared/services/keys.ts';

describe('face error bodies', () => {
  const error = conflict('already running');
  it.each([
    ['native', { error: { code: 'conflict', message: 'already running', requestId: 'r1' } }],
    ['dbconvert', { error: 'already running' }],
    ['sds', { reason: 'already running' }],
    ['domo', { status: 409, statusReason: 'Conflict', message: 'already running', toe: 'r1' }],
  ] as const)('shapes %s errors as its vendor does', (face, body) => {
    expect(errorBody(face, error, 'r1')).toEqual(body);
  });

  it('carries validation details only on the native face', () => {
    const bad = invalid('bad', [{ path: 'name', message: 'required' }]);
    expect(errorBody('native', bad, 'r')).toMatchObject({ error: { details: [{ path: 'name', message: 'required' }] } });
    expect(errorBody('sds', bad, 'r')).toEqual({ reason: 'bad' });
  });
});

describe('merge patch (RFC 7386)', () => {
  it('merges objects, deletes nulls and replaces arrays', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1, 2] }, { b: { c: null, x: 1 }, e: [3] })).toEqual({ a: 1, b: { d: 3, x: 1 }, e: [3] });
  });
});

describe('cursors', () => {
  it('round-trip and refuse forgeries for another partition', () => {
    const key = { PK: 'STM#a', SK: 'STREAM', GSI1PK: 'SOL#x#STREAMS', GSI1SK: 'a' };
    const cursor = encodeCursor(key)!;
    expect(decodeCursor(cursor, { name: 'GSI1PK', value: 'SOL#x#STREAMS' })).toEqual(key);
    expect(() => decodeCursor(cursor, { name: 'GSI1PK', value: 'SOL#y#STREAMS' })).toThrow(/cursor/);
    expect(() => decodeCursor('%%%')).toThrow(/cursor/);
  });
});

describe('API key headers', () => {
  it('reads X-API-Key, Bearer and ModeCloud forms', () => {
    expect(presentedKey({ 'x-api-key': 'k1' })).toBe('k1');
    expect(presentedKey({ authorization: 'Bearer k2' })).toBe('k2');
    expect(presentedKey({ authorization: 'ModeCloud k3' })).toBe('k3');
    expect(presentedKey({ authorization: 'Basic abc' })).toBeUndefined();
  });

  it('finds the id inside generated keys and derives a stable one for chosen keys', () => {
    expect(keyIdOf(`sk.key_01ARZ3NDEKTSV4RRFFQ69G5FAV.${'a'.repeat(43)}`)).toBe('key_01ARZ3NDEKTSV4RRFFQ69G5FAV');
    expect(keyIdOf('my-admin-key')).toBe(keyIdOf('my-admin-key'));
    expect(keyIdOf('my-admin-key')).toMatch(/^key_[0-9A-Z]{26}$/);
    expect(keyIdOf('my-admin-key')).not.toBe(keyIdOf('other-key'));
  });
});

/** Every line written to stdout and stderr while `work` runs. */
async function captured(work: () => Promise<unknown>): Promise<string[]> {
  const written: string[] = [];
  const spies = [vi.spyOn(process.stdout, 'write'), vi.spyOn(process.stderr, 'write')].map((spy) =>
    spy.mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0),
  );
  try {
    await work();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written;
}

describe('the logger', () => {
  it('has written the line when the call resolves (the logger chunk loads on first use; Lambda may freeze after the reply)', async () => {
    const { logger } = await import('#shared/http/logger.ts');
    const written = await captured(() => logger.error('logged before the reply', { requestId: 'r-log' }));
    expect(written.join('')).toContain('logged before the reply');
  });

  it('says why a request answered 5xx (not under a key the logger drops as reserved)', async () => {
    const { httpHandler } = await import('#shared/http/handler.ts');
    const handler = httpHandler(async () => {
      throw unavailable('the table is throttled');
    });
    let reply: { statusCode: number } | undefined;
    const written = await captured(async () => {
      reply = (await handler({ routeKey: 'GET /v1/health', headers: {}, requestContext: { requestId: 'r-5xx' } } as never, {} as never)) as { statusCode: number };
    });
    expect(reply?.statusCode).toBe(503);
    const line = written.find((text) => text.includes('request failed'));
    expect(line && JSON.parse(line)).toMatchObject({ level: 'ERROR', code: 'unavailable', reason: 'the table is throttled', requestId: 'r-5xx' });
    expect(written.join('')).not.toContain('reserved key');
  });
});

describe('public handlers (health, the OpenAPI document)', () => {
  it('answer with the headers httpHandler gives, without a key', async () => {
    const { handler } = await import('#functions/dbconvert/health.ts');
    const reply = (await handler({ routeKey: 'GET /api/v1/health', headers: {}, requestContext: { requestId: 'r-pub' } } as never, {} as never)) as { statusCode: number; headers: Record<string, string>; body: string };
    expect(reply.statusCode).toBe(200);
    expect(reply.headers).toMatchObject({ 'x-request-id': 'r-pub', 'access-control-allow-origin': '*', 'content-type': 'application/json; charset=utf-8' });
    expect(JSON.parse(reply.body)).toEqual({ ping: 'ok' });
  });

  it('hand a failure to httpHandler: logged, and shaped for the face of the route', async () => {
    const { publicHandler } = await import('#shared/http/public.ts');
    const failing = publicHandler(async () => {
      throw new Error('disk gone');
    });
    const event = (routeKey: string) => ({ routeKey, headers: {}, requestContext: { requestId: 'r-fail' } }) as never;
    const replies: { statusCode: number; body: string }[] = [];
    const written = await captured(async () => {
      for (const routeKey of ['GET /api/v1/health', 'GET /v1/health']) replies.push((await failing(event(routeKey), {} as never)) as { statusCode: number; body: string });
    });
    const [dbconvert, native] = replies;
    expect(dbconvert.statusCode).toBe(500);
    expect(JSON.parse(dbconvert.body)).toEqual({ error: 'An internal error occurred; quote the requestId when reporting it' });
    expect(native.statusCode).toBe(500);
    expect(JSON.parse(native.body)).toMatchObject({ error: { code: 'internal', requestId: 'r-fail' } });
    expect(written.join('')).toContain('disk gone');
  });
});
