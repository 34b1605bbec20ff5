import { randomBytes } from 'node:crypto';
import { encode } from '@msgpack/msgpack';
import { describe, expect, inject, it } from 'vitest';
import { api, fetchBundle, newTenant, packetStream } from '../support/api.ts';

const octets = { 'content-type': 'application/octet-stream' };

async function append(streamId: string, key: string, bytes: Buffer) {
  return api('POST', `/v1/streams/${streamId}/packets`, { key, raw: bytes, headers: octets });
}

describe('packet ingest', () => {
  it('gives 1,000 packets from 20 concurrent writers the indexes 1..1000 exactly, bytes intact', async () => {
    const { key, stream } = await packetStream();
    const sent = new Map<number, Buffer>();
    await Promise.all(
      Array.from({ length: 20 }, async (_, writer) => {
        for (let n = 0; n < 50; n++) {
          const bytes = Buffer.concat([Buffer.from(`w${writer}-p${n}:`), randomBytes(64 + ((writer * 50 + n) % 200))]);
          const response = await append(stream.id, key, bytes);
          expect(response.status, response.text).toBe(201);
          expect(response.body.size).toBe(bytes.length);
          expect(sent.has(response.body.index)).toBe(false);
          sent.set(response.body.index, bytes);
        }
      }),
    );
    expect([...sent.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));

    const status = await api('GET', `/v1/streams/${stream.id}/status`, { key });
    expect(status.status).toBe(200);
    expect(status.body.packetIndex).toBe(1000);
    expect(status.body.lastPacketReceivedAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    // A second reader sees every packet's bytes, in index order, through the bundle.
    const data = await api('GET', `/v1/streams/${stream.id}/data?start=1&stop=1000`, { key });
    expect(data.status).toBe(302);
    const packets = await fetchBundle(data.headers.get('location')!);
    expect(packets.map((p) => p[1])).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    for (const [name, index, bytes] of packets) {
      expect(name).toBe(stream.name);
      expect(Buffer.from(bytes).equals(sent.get(index)!)).toBe(true);
    }

    // The index listing pages through the same 1,000 entries.
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api('GET', `/v1/streams/${stream.id}/packets?limit=400${cursor ? `&cursor=${cursor}` : ''}`, { key });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((e: { index: number }) => e.index));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });
});

/** A second key of the same solution, for lease tests. */
async function secondKey(solutionId: string) {
  const key = await api('POST', '/v1/keys', { body: { name: 'other-writer', scopes: ['streams:read', 'data:read', 'data:write'], solutionId } });
  return key.body.key as string;
}

describe('batches, limits and idempotency', () => {
  it('appends a MessagePack batch and a JSON batch as consecutive indexes', async () => {
    const { key, stream } = await packetStream();
    await append(stream.id, key, Buffer.from('first'));
    const msgpack = await api('POST', `/v1/streams/${stream.id}/packets/batch`, {
      key,
      raw: Buffer.from(encode([Buffer.from('a'), Buffer.from('bb'), new Uint8Array([0, 255, 1])])),
      headers: { 'content-type': 'application/msgpack' },
    });
    expect(msgpack.status, msgpack.text).toBe(201);
    expect(msgpack.body.first).toBe(2);
    expect(msgpack.body.last).toBe(4);
    expect(msgpack.body.packets.map((p: { index: number; size: number }) => [p.index, p.size])).toEqual([[2, 1], [3, 2], [4, 3]]);

    const json = await api('POST', `/v1/streams/${stream.id}/packets/batch`, {
      key,
      body: { packets: [{ data: Buffer.from('x').toString('base64') }, { data: Buffer.from('yz').toString('base64'), contentType: 'text/plain' }] },
    });
    expect(json.status, json.text).toBe(201);
    expect([json.body.first, json.body.last]).toEqual([5, 6]);

    // The largest batch (97: one transaction of 100 items) is accepted whole.
    const largest = await api('POST', `/v1/streams/${stream.id}/packets/batch`, {
      key,
      raw: Buffer.from(encode(Array.from({ length: 97 }, (_, i) => Buffer.from(`big-${i}`)))),
      headers: { 'content-type': 'application/msgpack' },
    });
    expect(largest.status, largest.text).toBe(201);
    expect([largest.body.first, largest.body.last]).toEqual([7, 103]);

    const entries = await api('GET', `/v1/streams/${stream.id}/packets?start=4&stop=6`, { key });
    expect(entries.body.nextCursor).toBeNull();
    expect(entries.body.items.map((e: { index: number; contentType: string }) => [e.index, e.contentType])).toEqual([
      [4, 'application/octet-stream'],
      [5, 'application/octet-stream'],
      [6, 'text/plain'],
    ]);
    expect(entries.body.items[0].source).toEqual({ type: 'key', id: expect.stringMatching(/^key_/) });
    const packets = await fetchBundle((await api('GET', `/v1/streams/${stream.id}/data?start=1&stop=6`, { key })).headers.get('location')!);
    expect(packets.map(([, i, b]) => [i, Buffer.from(b).toString('latin1')])).toEqual([
      [1, 'first'], [2, 'a'], [3, 'bb'], [4, '\u0000\u00ff\u0001'], [5, 'x'], [6, 'yz'],
    ]);
  });

  it('refuses a bad batch as a whole: nothing is appended', async () => {
    const { key, stream } = await packetStream();
    const cases = [
      { raw: Buffer.from(encode([Buffer.from('ok'), 'a string'])), type: 'application/msgpack', status: 400 },
      { raw: Buffer.from(encode([])), type: 'application/msgpack', status: 400 },
      { raw: Buffer.from([0xc1, 0x00]), type: 'application/msgpack', status: 400 },
      { raw: JSON.stringify({ packets: [{ data: 'aGk=' }, { data: '!!not base64!!' }] }), type: 'application/json', status: 400 },
      { raw: JSON.stringify({ packets: [] }), type: 'application/json', status: 400 },
      { raw: Buffer.from(encode(Array.from({ length: 98 }, () => Buffer.from('p')))), type: 'application/msgpack', status: 400 },
      { raw: 'a,b', type: 'text/csv', status: 415 },
    ];
    for (const c of cases) {
      const response = await api('POST', `/v1/streams/${stream.id}/packets/batch`, { key, raw: c.raw, headers: { 'content-type': c.type } });
      expect(response.status, `${c.type} ${response.text}`).toBe(c.status);
      expect(response.body.error.message).toBeTruthy();
    }
    expect((await api('GET', `/v1/streams/${stream.id}/status`, { key })).body.packetIndex).toBe(0);
  });

  it('refuses a 6 MiB packet with 413 and an empty one with 400, appending nothing', async () => {
    const { key, stream } = await packetStream();
    const big = await append(stream.id, key, Buffer.alloc(6 * 1024 * 1024, 1));
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('too_large');
    const empty = await append(stream.id, key, Buffer.alloc(0));
    expect(empty.status).toBe(400);
    expect((await api('GET', `/v1/streams/${stream.id}/status`, { key })).body.packetIndex).toBe(0);
    const justUnder = await append(stream.id, key, Buffer.alloc(5 * 1024 * 1024 - 16, 2));
    expect(justUnder.status).toBe(201);
  });

  it('replays an append with the same Idempotency-Key instead of appending twice', async () => {
    const { key, stream } = await packetStream();
    const headers = { ...octets, 'idempotency-key': 'retry-1' };
    const first = await api('POST', `/v1/streams/${stream.id}/packets`, { key, raw: Buffer.from('once'), headers });
    const again = await api('POST', `/v1/streams/${stream.id}/packets`, { key, raw: Buffer.from('once'), headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.index).toBe(first.body.index);
    const other = await api('POST', `/v1/streams/${stream.id}/packets`, { key, raw: Buffer.from('another body'), headers });
    expect(other.status).toBe(409);
    expect((await api('GET', `/v1/streams/${stream.id}/status`, { key })).body.packetIndex).toBe(1);
  });
});

describe('status and the writer lease', () => {
  it('lets only the owner write while the lease is held, and anyone after release', async () => {
    const { key, solution, stream, keyId } = await packetStream();
    const other = await secondKey(solution.id);
    const taken = await api('PUT', `/v1/streams/${stream.id}/owner`, { key, body: { ttlSeconds: 60 } });
    expect(taken.status).toBe(200);
    expect(taken.body.streamOwner).toEqual({ type: 'key', id: keyId, expiresAt: expect.any(String) });

    expect((await append(stream.id, key, Buffer.from('owner'))).status).toBe(201);
    const refused = await append(stream.id, other, Buffer.from('intruder'));
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(keyId);
    expect((await api('PUT', `/v1/streams/${stream.id}/owner`, { key: other, body: { ttlSeconds: 60 } })).status).toBe(409);
    expect((await api('DELETE', `/v1/streams/${stream.id}/owner`, { key: other })).status).toBe(409);

    const status = await api('GET', `/v1/streams/${stream.id}/status`, { key: other });
    expect(status.body).toMatchObject({ packetIndex: 1, openPacketIndex: null, streamOwner: { type: 'key', id: keyId } });

    expect((await api('DELETE', `/v1/streams/${stream.id}/owner`, { key })).status).toBe(204);
    expect((await append(stream.id, other, Buffer.from('now free'))).status).toBe(201);
    expect((await api('GET', `/v1/streams/${stream.id}/status`, { key })).body).toMatchObject({ packetIndex: 2, streamOwner: null });
  });

  it('treats an expired lease as free', async () => {
    const { key, solution, stream } = await packetStream();
    const other = await secondKey(solution.id);
    expect((await api('PUT', `/v1/streams/${stream.id}/owner`, { key, body: { ttlSeconds: 1 } })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await append(stream.id, other, Buffer.from('after expiry'))).status).toBe(201);
    const taken = await api('PUT', `/v1/streams/${stream.id}/owner`, { key: other, body: { ttlSeconds: 30 } });
    expect(taken.status).toBe(200);
    expect((await append(stream.id, key, Buffer.from('old owner'))).status).toBe(409);
  });

  it('refuses a bad lease body', async () => {
    const { key, stream } = await packetStream();
    for (const body of [{ ttlSeconds: 0 }, { ttlSeconds: -5 }, { ttlSeconds: 'ten' }, { ttlSeconds: 1e9 }]) {
      expect((await api('PUT', `/v1/streams/${stream.id}/owner`, { key, body })).status).toBe(400);
    }
  });
});

describe('sessions and metadata (native)', () => {
  it('adds, lists by overlapping range with pagination, gets and deletes sessions', async () => {
    const { key, stream, keyId } = await packetStream();
    for (let i = 0; i < 10; i++) await append(stream.id, key, Buffer.from(`p${i}`));
    const made = [];
    for (const [start, stop] of [[1, 3], [4, 6], [7, 10], [2, 9]]) {
      const response = await api('POST', `/v1/streams/${stream.id}/sessions`, { key, body: { start, stop } });
      expect(response.status, response.text).toBe(201);
      expect(response.body).toEqual({ id: expect.stringMatching(/^ses_/), start, stop, author: { type: 'key', id: keyId } });
      made.push(response.body);
    }
    const overlapping = await api('GET', `/v1/streams/${stream.id}/sessions?start=5&stop=6`, { key });
    expect(overlapping.body.items.map((s: { start: number }) => s.start)).toEqual([4, 2]);
    const page1 = await api('GET', `/v1/streams/${stream.id}/sessions?start=1&stop=10&limit=3`, { key });
    expect(page1.body.items).toHaveLength(3);
    const page2 = await api('GET', `/v1/streams/${stream.id}/sessions?start=1&stop=10&limit=3&cursor=${page1.body.nextCursor}`, { key });
    expect(page2.body.items.map((s: { id: string }) => s.id)).toEqual([made[3].id]);
    expect(page2.body.nextCursor).toBeNull();

    expect((await api('GET', `/v1/streams/${stream.id}/sessions/${made[0].id}`, { key })).body).toEqual(made[0]);
    expect((await api('DELETE', `/v1/streams/${stream.id}/sessions/${made[0].id}`, { key })).status).toBe(204);
    expect((await api('GET', `/v1/streams/${stream.id}/sessions/${made[0].id}`, { key })).status).toBe(404);
    expect((await api('DELETE', `/v1/streams/${stream.id}/sessions/${made[0].id}`, { key })).status).toBe(404);
  });

  it('refuses sessions outside the known packets and bad ranges with 400', async () => {
    const { key, stream } = await packetStream();
    for (let i = 0; i < 3; i++) await append(stream.id, key, Buffer.from(`p${i}`));
    const bad = [{ start: 2, stop: 4 }, { start: 0, stop: 2 }, { start: 3, stop: 2 }, { start: -1, stop: 2 }, { start: 'a', stop: 2 }, { start: 1.5, stop: 2 }, {}];
    for (const body of bad) {
      const response = await api('POST', `/v1/streams/${stream.id}/sessions`, { key, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
    for (const query of ['', '?start=1', '?start=a&stop=2', '?start=-1&stop=2', '?start=5&stop=2', '?start=1.5&stop=2']) {
      expect((await api('GET', `/v1/streams/${stream.id}/sessions${query}`, { key })).status, query).toBe(400);
    }
  });

  it('opens a live session at the next index and closes it up to the last packet', async () => {
    const { key, stream } = await packetStream();
    await append(stream.id, key, Buffer.from('before'));
    const opened = await api('POST', `/v1/streams/${stream.id}/sessions/open`, { key });
    expect(opened.status).toBe(200);
    expect(opened.body.openPacketIndex).toBe(2);
    expect((await api('POST', `/v1/streams/${stream.id}/sessions/open`, { key })).status).toBe(409);
    expect((await api('GET', `/v1/streams/${stream.id}/status`, { key })).body.openPacketIndex).toBe(2);
    await append(stream.id, key, Buffer.from('in 1'));
    await append(stream.id, key, Buffer.from('in 2'));
    const closed = await api('POST', `/v1/streams/${stream.id}/sessions/close`, { key });
    expect(closed.status).toBe(201);
    expect(closed.body).toMatchObject({ start: 2, stop: 3 });
    expect((await api('GET', `/v1/streams/${stream.id}/status`, { key })).body.openPacketIndex).toBeNull();
    expect((await api('POST', `/v1/streams/${stream.id}/sessions/close`, { key })).status).toBe(409);
    // Opened and closed with no packet in between: no session.
    await api('POST', `/v1/streams/${stream.id}/sessions/open`, { key });
    const empty = await api('POST', `/v1/streams/${stream.id}/sessions/close`, { key });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ session: null });
  });

  it('refuses to delete a session while a download or run uses it (409), and allows it after', async () => {
    const { key, stream } = await packetStream();
    for (let i = 0; i < 3; i++) await append(stream.id, key, Buffer.from(`p${i}`));
    const session = (await api('POST', `/v1/streams/${stream.id}/sessions`, { key, body: { start: 1, stop: 3 } })).body;
    Object.assign(process.env, inject('runtimeEnv'));
    const { useSession } = await import('#shared/services/sessions.ts');
    const release = await useSession(stream.id, session.id, 60);
    const busy = await api('DELETE', `/v1/streams/${stream.id}/sessions/${session.id}`, { key });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('conflict');
    await release();
    expect((await api('DELETE', `/v1/streams/${stream.id}/sessions/${session.id}`, { key })).status).toBe(204);
  });

  it('upserts metadata packets keeping receivedAt, and lists them by range', async () => {
    const { key, stream, keyId } = await packetStream();
    for (let i = 0; i < 5; i++) await append(stream.id, key, Buffer.from(`p${i}`));
    const first = await api('PUT', `/v1/streams/${stream.id}/metadata/2`, { key, body: { gps: [1, 2] } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ packetIndex: 2, content: { gps: [1, 2] }, receivedAt: expect.any(String), updatedAt: first.body.receivedAt, source: { type: 'key', id: keyId } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await api('PUT', `/v1/streams/${stream.id}/metadata/2`, { key, body: { gps: [3, 4], note: 'moved' } });
    expect(second.status).toBe(200);
    expect(second.body.receivedAt).toBe(first.body.receivedAt);
    expect(second.body.updatedAt > first.body.updatedAt).toBe(true);
    await api('PUT', `/v1/streams/${stream.id}/metadata/5`, { key, body: { last: true } });
    const list = await api('GET', `/v1/streams/${stream.id}/metadata?start=1&stop=4`, { key });
    expect(list.body.items).toEqual([{ ...second.body }]);
    const all = await api('GET', `/v1/streams/${stream.id}/metadata?start=0&stop=10&limit=1`, { key });
    expect(all.body.items.map((m: { packetIndex: number }) => m.packetIndex)).toEqual([2]);
    const rest = await api('GET', `/v1/streams/${stream.id}/metadata?start=0&stop=10&limit=1&cursor=${all.body.nextCursor}`, { key });
    expect(rest.body.items.map((m: { packetIndex: number }) => m.packetIndex)).toEqual([5]);
  });

  it('refuses metadata that is not a JSON object, or for an unknown packet, with 400', async () => {
    const { key, stream } = await packetStream();
    await append(stream.id, key, Buffer.from('only'));
    for (const raw of ['[1,2]', '"text"', '42', 'null', '{broken']) {
      const response = await api('PUT', `/v1/streams/${stream.id}/metadata/1`, { key, raw, headers: { 'content-type': 'application/json' } });
      expect(response.status, raw).toBe(400);
    }
    expect((await api('PUT', `/v1/streams/${stream.id}/metadata/2`, { key, body: { a: 1 } })).status).toBe(400);
    expect((await api('PUT', `/v1/streams/${stream.id}/metadata/0`, { key, body: { a: 1 } })).status).toBe(400);
    expect((await api('PUT', `/v1/streams/${stream.id}/metadata/abc`, { key, body: { a: 1 } })).status).toBe(400);
    expect((await api('PUT', `/v1/streams/${stream.id}/metadata/-1`, { key, body: { a: 1 } })).status).toBe(400);
  });
});

describe('data download', () => {
  it('redirects to a presigned bundle of exactly packets 10..20, refused by S3 when tampered or expired', async () => {
    const { key, stream, solution } = await packetStream();
    const batch = Array.from({ length: 25 }, (_, i) => Buffer.from(`packet-${i + 1}-${'x'.repeat(i)}`));
    await api('POST', `/v1/streams/${stream.id}/packets/batch`, { key, raw: Buffer.from(encode(batch)), headers: { 'content-type': 'application/msgpack' } });

    const data = await api('GET', `/v1/streams/${stream.id}/data?start=10&stop=20`, { key });
    expect(data.status).toBe(302);
    expect(data.text).toBe(''); // the function never returns packet bytes
    const location = data.headers.get('location')!;
    const runtime = inject('runtimeEnv');
    expect(location.startsWith(runtime.AWS_ENDPOINT_URL_S3)).toBe(true);
    expect(new URL(location).searchParams.get('X-Amz-Expires')).toBe('300');
    const packets = await fetchBundle(location);
    expect(packets).toHaveLength(11);
    packets.forEach(([name, index, bytes], i) => {
      expect(name).toBe(stream.name);
      expect(index).toBe(10 + i);
      expect(Buffer.from(bytes).equals(batch[9 + i])).toBe(true);
    });

    // A second request reuses the built bundle: same object, not rebuilt.
    const { S3Client, GetObjectCommand, HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({
      endpoint: runtime.AWS_ENDPOINT_URL_S3,
      region: runtime.AWS_REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: runtime.AWS_ACCESS_KEY_ID, secretAccessKey: runtime.AWS_SECRET_ACCESS_KEY },
    });
    const objectKey = `solutions/${solution.id}/streams/${stream.id}/bundles/10-20.msgpack`;
    const head = await s3.send(new HeadObjectCommand({ Bucket: runtime.BUCKET_NAME, Key: objectKey }));
    expect(head.Metadata?.['stream-name']).toBe(encodeURIComponent(stream.name));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const again = await api('GET', `/v1/streams/${stream.id}/data?start=10&stop=20`, { key });
    expect(new URL(again.headers.get('location')!).pathname).toBe(new URL(location).pathname);
    const headAgain = await s3.send(new HeadObjectCommand({ Bucket: runtime.BUCKET_NAME, Key: objectKey }));
    expect(headAgain.LastModified).toEqual(head.LastModified);

    const url = new URL(location);
    const signature = url.searchParams.get('X-Amz-Signature')!;
    url.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
    expect((await fetch(url)).status).toBe(403);
    const otherKey = new URL(location);
    otherKey.pathname = otherKey.pathname.replace('10-20', '1-25');
    expect((await fetch(otherKey)).status).toBe(403);

    // An expired link: the same object presigned for 2 seconds.
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    // X-Amz-Date has whole seconds, so a 2 s link is valid for at least 1 s.
    const shortLived = await getSignedUrl(s3, new GetObjectCommand({ Bucket: runtime.BUCKET_NAME, Key: objectKey }), { expiresIn: 2 });
    expect((await fetch(shortLived)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 3100));
    expect((await fetch(shortLived)).status).toBe(403);
  });

  it('clamps stop to the last packet, 404s an empty range and 400s bad ranges', async () => {
    const { key, stream } = await packetStream();
    expect((await api('GET', `/v1/streams/${stream.id}/data?start=1&stop=5`, { key })).status).toBe(404);
    for (let i = 0; i < 3; i++) await append(stream.id, key, Buffer.from(`p${i}`));
    const clamped = await api('GET', `/v1/streams/${stream.id}/data?start=2&stop=100`, { key });
    expect(clamped.status).toBe(302);
    expect((await fetchBundle(clamped.headers.get('location')!)).map((p) => p[1])).toEqual([2, 3]);
    expect((await api('GET', `/v1/streams/${stream.id}/data?start=4&stop=9`, { key })).status).toBe(404);
    for (const query of ['?start=5&stop=2', '?start=a&stop=2', '?start=-1&stop=2', '?start=1', '?stop=2', '?start=1&stop=2.5']) {
      const response = await api('GET', `/v1/streams/${stream.id}/data${query}`, { key });
      expect(response.status, query).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
  });
});

describe('auth and tenancy', () => {
  it('refuses calls without a key (401) and hides another solution\'s stream (404)', async () => {
    const { key, stream, solution } = await packetStream();
    const other = await newTenant();
    expect((await api('POST', `/v1/streams/${stream.id}/packets`, { key: null, raw: Buffer.from('x'), headers: octets })).status).toBe(401);
    expect((await api('GET', `/v1/streams/${stream.id}/status`, { key: null })).status).toBe(401);
    for (const [method, path] of [
      ['POST', '/packets'],
      ['GET', '/status'],
      ['GET', '/data?start=1&stop=1'],
      ['GET', '/sessions?start=1&stop=1'],
      ['GET', '/metadata?start=1&stop=1'],
      ['PUT', '/owner'],
    ]) {
      const response = await api(method, `/v1/streams/${stream.id}${path}`, { key: other.key, raw: method === 'GET' ? undefined : Buffer.from('{}'), headers: { 'content-type': 'application/json' } });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    // A key of the stream's own solution without data:write is refused with 403.
    const readOnly = await api('POST', '/v1/keys', { body: { name: 'ro', scopes: ['streams:read', 'data:read'], solutionId: solution.id } });
    expect((await append(stream.id, readOnly.body.key, Buffer.from('x'))).status).toBe(403);
    expect((await api('GET', `/v1/streams/${stream.id}/status`, { key })).body.packetIndex).toBe(0);
  });
});
