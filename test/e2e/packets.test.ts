import { randomBytes } from 'node:crypto';
import { decodeMulti, encode } from '@msgpack/msgpack';
import { describe, expect, inject, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';

/** A stream with an http-collector, in a fresh solution. */
async function packetStream(namespace = 'default') {
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

const octets = { 'content-type': 'application/octet-stream' };

async function append(streamId: string, key: string, bytes: Buffer) {
  return api('POST', `/v1/streams/${streamId}/packets`, { key, raw: bytes, headers: octets });
}

/** Follows a /data redirect and decodes the bundle. */
async function fetchBundle(location: string) {
  const response = await fetch(location);
  expect(response.status).toBe(200);
  const body = Buffer.from(await response.arrayBuffer());
  return [...decodeMulti(body)] as [string, number, Uint8Array][];
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
