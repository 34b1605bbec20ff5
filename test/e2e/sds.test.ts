import { decodeMulti } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';

/** A solution with streams in smart module `m1` (and one in `m2`), created through /v1. */
async function home() {
  const tenant = await newTenant();
  const names = [unique('a'), unique('b'), unique('c')];
  const ids: Record<string, string> = {};
  for (const name of names) {
    const created = await api('POST', '/v1/streams', { key: tenant.key, body: { name, namespace: 'm1' } });
    if (created.status !== 201) throw new Error(created.text);
    ids[name] = created.body.id;
  }
  await api('POST', '/v1/streams', { key: tenant.key, body: { name: unique('elsewhere'), namespace: 'm2' } });
  const mode = { authorization: `ModeCloud ${tenant.key}` };
  const base = `/homes/${tenant.solution.homeId}/smartModules/m1/streams`;
  const call = (method: string, path: string, body?: unknown) => api(method, `${base}${path}`, { key: null, headers: mode, body });
  return { ...tenant, names, ids, base, call };
}

async function appendN(key: string, streamId: string, n: number) {
  for (let i = 1; i <= n; i++) {
    const r = await api('POST', `/v1/streams/${streamId}/packets`, { key, raw: Buffer.from(`pkt-${i}`), headers: { 'content-type': 'application/octet-stream' } });
    if (r.status !== 201) throw new Error(r.text);
  }
}

describe('MODE SDS face', () => {
  it('lists the streams of a home and module with skip and limit (limit=0: no limit) and gets one', async () => {
    const { call, names, solution } = await home();
    const all = await call('GET', '');
    expect(all.status).toBe(200);
    expect(Array.isArray(all.body)).toBe(true);
    expect(all.body.map((s: { name: string }) => s.name).sort()).toEqual([...names].sort());
    expect(all.body[0]).toEqual({ homeId: solution.homeId, moduleId: 'm1', name: expect.any(String) });
    const unlimited = await call('GET', '?limit=0');
    expect(unlimited.body).toEqual(all.body);
    expect((await call('GET', '?skip=1&limit=1')).body).toEqual([all.body[1]]);
    expect((await call('GET', '?skip=2')).body).toEqual([all.body[2]]);
    expect((await call('GET', '?skip=5')).body).toEqual([]);

    const one = await call('GET', `/${encodeURIComponent(names[0])}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ homeId: solution.homeId, moduleId: 'm1', name: names[0] });
  });

  it('shows the same status, sessions and metadata as /v1, with the seed field names', async () => {
    const { call, key, keyId, names, ids } = await home();
    const name = names[0];
    const id = ids[name];
    const empty = await call('GET', `/${name}/status`);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ packetIndex: 0 });
    await appendN(key, id, 6);
    await api('POST', `/v1/streams/${id}/sessions/open`, { key });
    const status = await call('GET', `/${name}/status`);
    expect(status.body).toEqual({ lastPacketReceivedAt: expect.stringMatching(/Z$/), packetIndex: 6, openPacketIndex: 7 });
    expect(status.body).toEqual({ ...(await api('GET', `/v1/streams/${id}/status`, { key })).body, openPacketIndex: 7, streamOwner: undefined });

    // Sessions: added through MODE, read through /v1 and back.
    const added = await call('POST', `/${name}/sessions`, { start: 2, stop: 4 });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ id: expect.stringMatching(/^ses_/), start: 2, stop: 4, author: { type: 'key', id: keyId } });
    const native = await api('POST', `/v1/streams/${id}/sessions`, { key, body: { start: 5, stop: 6 } });
    expect((await api('GET', `/v1/streams/${id}/sessions/${added.body.id}`, { key })).body).toEqual(added.body);
    const listed = await call('GET', `/${name}/sessions?start=1&stop=6`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([added.body, native.body]);
    expect((await call('GET', `/${name}/sessions?start=5&stop=5`)).body).toEqual([native.body]);
    expect((await call('GET', `/${name}/sessions?start=1&stop=6&skip=1&limit=1`)).body).toEqual([native.body]);
    expect((await call('GET', `/${name}/sessions/${native.body.id}`)).body).toEqual(native.body);
    expect((await call('DELETE', `/${name}/sessions/${native.body.id}`)).status).toBe(204);
    expect((await call('GET', `/${name}/sessions/${native.body.id}`)).status).toBe(404);
    expect((await api('GET', `/v1/streams/${id}/sessions/${native.body.id}`, { key })).status).toBe(404);

    // Metadata: written through /v1, read through MODE.
    await api('PUT', `/v1/streams/${id}/metadata/3`, { key, body: { temperature: 21.5 } });
    await api('PUT', `/v1/streams/${id}/metadata/5`, { key, body: { temperature: 22 } });
    const metadata = await call('GET', `/${name}/metadata?start=1&stop=4`);
    expect(metadata.status).toBe(200);
    expect(metadata.body).toEqual([
      { packetIndex: 3, content: { temperature: 21.5 }, receivedAt: expect.any(String), updatedAt: expect.any(String), source: { type: 'key', id: keyId } },
    ]);
    expect((await call('GET', `/${name}/metadata?start=0&stop=10&limit=0`)).body.map((m: { packetIndex: number }) => m.packetIndex)).toEqual([3, 5]);
    expect((await call('GET', `/${name}/metadata?start=0&stop=10&skip=1`)).body.map((m: { packetIndex: number }) => m.packetIndex)).toEqual([5]);
  });

  it('redirects /data to the bundle of exactly packets 10..20 with the stream name', async () => {
    const { call, key, names, ids } = await home();
    const name = names[1];
    const packets = Array.from({ length: 22 }, (_, i) => Buffer.from(`pkt-${i + 1}`));
    const batch = await api('POST', `/v1/streams/${ids[name]}/packets/batch`, { key, body: { packets: packets.map((p) => ({ data: p.toString('base64') })) } });
    expect(batch.status).toBe(201);
    const data = await call('GET', `/${name}/data?start=10&stop=20`);
    expect(data.status).toBe(302);
    expect(data.text).toBe('');
    const location = data.headers.get('location')!;
    const response = await fetch(location);
    expect(response.status).toBe(200);
    const decoded = [...decodeMulti(Buffer.from(await response.arrayBuffer()))] as [string, number, Uint8Array][];
    expect(decoded).toHaveLength(11);
    decoded.forEach(([streamName, index, bytes], i) => {
      expect(streamName).toBe(name);
      expect(index).toBe(10 + i);
      expect(Buffer.from(bytes).toString()).toBe(`pkt-${10 + i}`);
    });
    const tampered = new URL(location);
    tampered.searchParams.set('X-Amz-Expires', '3600');
    expect((await fetch(tampered)).status).toBe(403);
    expect((await call('GET', `/${name}/data?start=30&stop=40`)).status).toBe(404);
  });

  it('answers in MODE error bodies: 401 without a key, 404 for another home, unknown module or stream, 400/403 for bad input', async () => {
    const { call, base, names, solution, key } = await home();
    const noKey = await api('GET', `${base}/${names[0]}/status`, { key: null });
    expect(noKey.status).toBe(401);
    expect(noKey.body).toEqual({ reason: expect.any(String) });

    const stranger = await newTenant();
    for (const path of ['', `/${names[0]}`, `/${names[0]}/status`, `/${names[0]}/data?start=1&stop=1`, `/${names[0]}/sessions?start=1&stop=2`]) {
      const response = await api('GET', `${base}${path}`, { key: null, headers: { authorization: `ModeCloud ${stranger.key}` } });
      expect(response.status, path).toBe(404);
      expect(response.body.reason).toContain(`home ${solution.homeId}`);
    }
    expect((await api('GET', `/homes/999999/smartModules/m1/streams`, { key: null, headers: { authorization: `ModeCloud ${key}` } })).status).toBe(404);
    expect((await api('GET', `/homes/${solution.homeId}/smartModules/nope/streams`, { key: null, headers: { authorization: `ModeCloud ${key}` } })).status).toBe(404);
    expect((await api('GET', `/homes/abc/smartModules/m1/streams`, { key: null, headers: { authorization: `ModeCloud ${key}` } })).status).toBe(400);
    expect((await call('GET', '/no-such-stream/status')).status).toBe(404);
    expect((await call('GET', `/${names[0]}/sessions/ses_01J00000000000000000000000`)).status).toBe(404);

    for (const query of ['', '?start=1', '?start=x&stop=2', '?start=-1&stop=2', '?start=3&stop=1']) {
      const response = await call('GET', `/${names[0]}/sessions${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body).toEqual({ reason: expect.any(String) });
    }
    expect((await call('GET', '?limit=-1')).status).toBe(400);
    expect((await call('GET', `/${names[0]}/data?start=2&stop=1`)).status).toBe(400);
    expect((await call('GET', `/${names[0]}/metadata?start=a&stop=1`)).status).toBe(400);
    // The seed documents 403 "invalid data" for session writes.
    const outside = await call('POST', `/${names[0]}/sessions`, { start: 1, stop: 5 });
    expect(outside.status).toBe(403);
    expect(outside.body.reason).toMatch(/invalid data/);
    expect((await call('POST', `/${names[0]}/sessions`, { start: 'x' })).status).toBe(403);

    const readOnly = await api('POST', '/v1/keys', { body: { name: 'ro', scopes: ['streams:read'], solutionId: solution.id } });
    const denied = await api('GET', `${base}/${names[0]}/status`, { key: null, headers: { authorization: `ModeCloud ${readOnly.body.key}` } });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ reason: expect.any(String) });
  });
});
