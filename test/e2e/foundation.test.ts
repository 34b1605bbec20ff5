import { describe, expect, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';
import { tableReader } from '../support/dynamo.ts';

const definition = {
  nodes: [
    { id: 'in', type: 'http-collector', name: 'meter-readings', config: { format: 'ndjson' } },
    { id: 'm', type: 'meter', name: 'kwh-meter', config: { groupBy: ['account'], aggregates: { kwh: { fn: 'sum', field: 'kwh' } } } },
    { id: 'out', type: 'aggregation-store', name: 'usage', config: {} },
  ],
  edges: [
    { from: 'in', to: 'm' },
    { from: 'm', to: 'out' },
  ],
};

describe('health and auth', () => {
  it('answers health without a key', async () => {
    const res = await api('GET', '/v1/health', { key: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok' });
  });

  it('refuses a missing or unknown key with 401 in the native error envelope', async () => {
    const missing = await api('GET', '/v1/streams', { key: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ code: 'unauthorized' });
    expect(missing.body.error.requestId).toBeTruthy();
    const unknown = await api('GET', '/v1/streams', { key: 'sk.key_01ARZ3NDEKTSV4RRFFQ69G5FAV.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
    expect(unknown.status).toBe(401);
  });

  it('accepts the three header forms', async () => {
    const { key } = await newTenant();
    const forms: Record<string, string>[] = [{ 'x-api-key': key }, { authorization: `Bearer ${key}` }, { authorization: `ModeCloud ${key}` }];
    for (const headers of forms) {
      expect((await api('GET', '/v1/streams', { headers })).status).toBe(200);
    }
  });

  it('refuses a key without the scope with 403', async () => {
    const { key } = await newTenant(['streams:read']);
    const res = await api('POST', '/v1/streams', { key, body: { name: 'x', definition } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });

  it('stops honouring a deleted key at once', async () => {
    const { key, keyId } = await newTenant();
    expect((await api('GET', '/v1/streams', { key })).status).toBe(200);
    expect((await api('DELETE', `/v1/keys/${keyId}`)).status).toBe(204);
    expect((await api('GET', '/v1/streams', { key })).status).toBe(401);
  });

  it('keeps admin endpoints to admin keys and never lists key values', async () => {
    const { key, solution } = await newTenant();
    expect((await api('GET', '/v1/solutions', { key })).status).toBe(403);
    const keys = await api('GET', `/v1/keys?solutionId=${solution.id}`);
    expect(keys.status).toBe(200);
    expect(keys.body.items).toHaveLength(1);
    expect(keys.body.items[0].key).toBeUndefined();
    expect(keys.body.items[0].hash).toBeUndefined();
  });

  it('gives each solution a unique integer homeId', async () => {
    const a = await newTenant();
    const b = await newTenant();
    expect(Number.isInteger(a.solution.homeId)).toBe(true);
    expect(a.solution.homeId).not.toBe(b.solution.homeId);
  });
});

describe('native streams', () => {
  it('creates, reads, lists with each filter and patches a stream', async () => {
    const { key } = await newTenant();
    const name = unique('Meter-Stream');
    const created = await api('POST', '/v1/streams', { key, body: { name, namespace: 'ns1', description: 'd', definition } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name, namespace: 'ns1', revision: 1, deployment: null, activeRun: null });
    expect(created.body.id).toMatch(/^stm_[0-9A-Z]{26}$/);
    expect(created.body.httpEndpoints).toEqual([
      { nodeId: 'in', method: 'POST', url: expect.stringMatching(new RegExp(`/v1/streams/${created.body.id}/packets$`)) },
    ]);
    const id = created.body.id;
    await api('POST', '/v1/streams', { key, body: { name: unique('other'), definition: { nodes: [] } } });

    const read = await api('GET', `/v1/streams/${id}`, { key });
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body.definition.nodes.map((n: { id: string }) => n.id)).toEqual(['in', 'm', 'out']);

    const only = await api('GET', `/v1/streams/${id}?fields=name,definition.nodes`, { key });
    expect(Object.keys(only.body).sort()).toEqual(['definition', 'name']);
    expect(Object.keys(only.body.definition)).toEqual(['nodes']);

    for (const filter of [
      `name=${name.slice(0, 8).toLowerCase()}`,
      'namespace=ns1',
      'collector=meter-readings',
      'meter=kwh-meter',
      'aggregationStore=usage',
    ]) {
      const list = await api('GET', `/v1/streams?${filter}`, { key });
      expect(list.status, filter).toBe(200);
      expect(list.body.items.map((s: { id: string }) => s.id), filter).toEqual([id]);
    }
    expect((await api('GET', '/v1/streams?aggregationStore=nope', { key })).body.items).toEqual([]);

    const patched = await api('PATCH', `/v1/streams/${id}`, { key, body: { description: 'new' }, headers: { 'if-match': '"1"' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ description: 'new', revision: 2 });
    expect((await api('GET', `/v1/streams/${id}`, { key })).body.description).toBe('new');
  });

  it('paginates with limit and cursor without losing or repeating streams', async () => {
    const { key } = await newTenant();
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push((await api('POST', '/v1/streams', { key, body: { name: `p${i}` } })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api('GET', `/v1/streams?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { key });
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((s: { id: string }) => s.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(ids.sort());
    expect((await api('GET', '/v1/streams?limit=0', { key })).status).toBe(400);
    expect((await api('GET', '/v1/streams?cursor=garbage', { key })).status).toBe(400);
  });

  it('refuses a stale If-Match with 412 and keeps the newer write', async () => {
    const { key } = await newTenant();
    const { body } = await api('POST', '/v1/streams', { key, body: { name: 'etag', definition } });
    await api('PATCH', `/v1/streams/${body.id}`, { key, body: { description: 'first' } });
    const stale = await api('PATCH', `/v1/streams/${body.id}`, { key, body: { description: 'second' }, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('precondition_failed');
    expect((await api('GET', `/v1/streams/${body.id}`, { key })).body).toMatchObject({ description: 'first', revision: 2 });
  });

  it('refuses a duplicate name in a namespace with 409 and allows it in another', async () => {
    const { key } = await newTenant();
    expect((await api('POST', '/v1/streams', { key, body: { name: 'dup' } })).status).toBe(201);
    const again = await api('POST', '/v1/streams', { key, body: { name: 'dup' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    expect((await api('POST', '/v1/streams', { key, body: { name: 'dup', namespace: 'other' } })).status).toBe(201);
  });

  it('renames through PUT, freeing the old name and claiming the new one', async () => {
    const { key } = await newTenant();
    const a = await api('POST', '/v1/streams', { key, body: { name: 'a' } });
    await api('POST', '/v1/streams', { key, body: { name: 'b' } });
    expect((await api('PUT', `/v1/streams/${a.body.id}`, { key, body: { name: 'b' } })).status).toBe(409);
    const renamed = await api('PUT', `/v1/streams/${a.body.id}`, { key, body: { name: 'c', definition } });
    expect(renamed.status).toBe(200);
    expect((await api('POST', '/v1/streams', { key, body: { name: 'a' } })).status).toBe(201);
    expect((await api('POST', '/v1/streams', { key, body: { name: 'c' } })).status).toBe(409);
  });

  it.each([
    ['a cycle', { nodes: [{ id: 'a', type: 'map', config: { expression: '$' } }, { id: 'b', type: 'filter', config: { expression: 'true' } }], edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'a' }] }, 'definition.edges'],
    ['an unknown node type', { nodes: [{ id: 'a', type: 'teleporter' }] }, 'definition.nodes[0].type'],
    ['an edge to a missing node', { nodes: [{ id: 'in', type: 'http-collector' }], edges: [{ from: 'in', to: 'ghost' }] }, 'definition.edges[0].to'],
    ['a bad node config', { nodes: [{ id: 'm', type: 'meter', config: { aggregates: { x: { fn: 'median', field: 'v' } } } }] }, 'definition.nodes[0].config.aggregates.x.fn'],
    ['an invalid JSONata expression', { nodes: [{ id: 'f', type: 'filter', config: { expression: 'a +* b' } }] }, 'definition.nodes[0].config.expression'],
    ['an unreachable sink', { nodes: [{ id: 'out', type: 'dataset' }] }, 'definition.nodes[0]'],
  ])('refuses %s with 400 naming the path', async (_, bad, path) => {
    const { key } = await newTenant();
    const res = await api('POST', '/v1/streams', { key, body: { name: unique('bad'), definition: bad } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    expect((await api('GET', '/v1/streams', { key })).body.items).toEqual([]);
  });

  it('refuses malformed JSON and wrong field types with 400', async () => {
    const { key } = await newTenant();
    const broken = await api('POST', '/v1/streams', { key, raw: '{"name":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    const wrong = await api('POST', '/v1/streams', { key, body: { name: 42 } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details[0].path).toBe('name');
  });

  it('hides another solution\'s stream behind 404', async () => {
    const owner = await newTenant();
    const other = await newTenant();
    const { body } = await api('POST', '/v1/streams', { key: owner.key, body: { name: 'private' } });
    for (const [method, extra] of [['GET', {}], ['PATCH', { body: { description: 'x' } }], ['DELETE', {}]] as const) {
      const res = await api(method, `/v1/streams/${body.id}`, { key: other.key, ...extra });
      expect(res.status, method).toBe(404);
    }
    expect((await api('GET', '/v1/streams', { key: other.key })).body.items).toEqual([]);
    expect((await api('GET', `/v1/streams/${body.id}`, { key: owner.key })).body.description).toBe('');
  });

  it('deletes a stream, frees its name, and honours If-Match', async () => {
    const { key } = await newTenant();
    const { body } = await api('POST', '/v1/streams', { key, body: { name: 'gone' } });
    expect((await api('DELETE', `/v1/streams/${body.id}`, { key, headers: { 'if-match': '"9"' } })).status).toBe(412);
    expect((await api('DELETE', `/v1/streams/${body.id}`, { key })).status).toBe(204);
    expect((await api('GET', `/v1/streams/${body.id}`, { key })).status).toBe(404);
    expect((await api('POST', '/v1/streams', { key, body: { name: 'gone' } })).status).toBe(201);
  });

  it('lets exactly one of 50 concurrent creates of one name win, leaving no orphan items', async () => {
    const { key, solution } = await newTenant();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api('POST', '/v1/streams', { key, body: { name: 'race', description: String(i) } })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    const list = await api('GET', '/v1/streams?limit=500', { key });
    expect(list.body.items).toHaveLength(1);
    const winner = results.find((r) => r.status === 201)!.body.id;
    expect(list.body.items[0].id).toBe(winner);
    const table = tableReader();
    const claims = await table.itemsWithPkPrefix(`SOL#${solution.id}#NAME#`);
    expect(claims.map((c) => c.streamId)).toEqual([winner]);
    const streams = (await table.itemsWithPkPrefix('STM#')).filter((i) => i.SK === 'STREAM' && i.solutionId === solution.id);
    expect(streams.map((s) => s.id)).toEqual([winner]);
  });

  it('replays a create with the same Idempotency-Key and refuses another body', async () => {
    const { key } = await newTenant();
    const headers = { 'idempotency-key': 'create-1' };
    const first = await api('POST', '/v1/streams', { key, headers, body: { name: 'idem' } });
    const again = await api('POST', '/v1/streams', { key, headers, body: { name: 'idem' } });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    const different = await api('POST', '/v1/streams', { key, headers, body: { name: 'idem-2' } });
    expect(different.status).toBe(409);
    expect((await api('GET', '/v1/streams', { key })).body.items).toHaveLength(1);
  });

  it('serves the OpenAPI document listing every route', async () => {
    const res = await api('GET', '/v1/openapi.json', { key: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.paths['/v1/streams/{id}']).toHaveProperty('patch');
  });
});
