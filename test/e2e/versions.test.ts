import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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

/** The definition with a filter between the collector and the meter. */
const withFilter = {
  ...definition,
  nodes: [...definition.nodes, { id: 'f', type: 'filter', config: { expression: 'kwh > 0' } }],
  edges: [
    { from: 'in', to: 'f' },
    { from: 'f', to: 'm' },
    { from: 'm', to: 'out' },
  ],
};

async function newStream(key: string, body: Record<string, unknown> = {}) {
  const res = await api('POST', '/v1/streams', { key, body: { name: unique('stream'), definition, ...body } });
  expect(res.status).toBe(201);
  return res.body as { id: string; name: string; namespace: string; revision: number; definition: any };
}

const setBundleSize = (key: string, id: string, size: number) =>
  api('PATCH', `/v1/streams/${id}`, { key, body: { definition: { settings: { dataBundleSize: size } } } });

describe('stream versions', () => {
  it('lists autosave and the tags, and a tag stays as it was when the stream is edited', async () => {
    const { key } = await newTenant();
    const stream = await newStream(key);
    for (const size of [100, 200, 300]) expect((await setBundleSize(key, stream.id, size)).status).toBe(200);

    const v1 = await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'v1', description: 'first cut' } });
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ version: 'v1', revision: 4, description: 'first cut' });

    const edited = await api('PUT', `/v1/streams/${stream.id}`, { key, body: { name: stream.name, definition: withFilter } });
    expect(edited.status).toBe(200);
    expect(edited.body.revision).toBe(5);
    const v2 = await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'v2' } });
    expect(v2.status).toBe(201);
    expect(v2.body).toMatchObject({ version: 'v2', revision: 5, description: '' });

    const versions = await api('GET', `/v1/streams/${stream.id}/versions`, { key });
    expect(versions.status).toBe(200);
    expect(versions.body.items).toEqual([
      { version: 'autosave', autosaved: true, revision: 5, updatedAt: edited.body.updatedAt },
      { version: 'v1', revision: 4, description: 'first cut', createdAt: v1.body.createdAt },
      { version: 'v2', revision: 5, description: '', createdAt: v2.body.createdAt },
    ]);
    expect(versions.body.nextCursor).toBeNull();

    const atV1 = await api('GET', `/v1/streams/${stream.id}?version=v1`, { key });
    expect(atV1.status).toBe(200);
    expect(atV1.body.version).toBe('v1');
    expect(atV1.body.definition.settings.dataBundleSize).toBe(300);
    expect(atV1.body.definition.nodes.map((n: { id: string }) => n.id)).toEqual(['in', 'm', 'out']);

    // Editing the stream moves autosave on; v1 does not move.
    expect((await setBundleSize(key, stream.id, 999)).status).toBe(200);
    const againV1 = await api('GET', `/v1/streams/${stream.id}?version=v1`, { key });
    expect(againV1.body.definition).toEqual(atV1.body.definition);
    const autosave = await api('GET', `/v1/streams/${stream.id}?version=autosave`, { key });
    expect(autosave.body.definition.settings.dataBundleSize).toBe(999);
    expect(autosave.body.definition.nodes).toHaveLength(4);
    const current = await api('GET', `/v1/streams/${stream.id}`, { key });
    expect(current.body.revision).toBe(6);

    const trimmed = await api('GET', `/v1/streams/${stream.id}?version=v2&fields=name,definition.nodes`, { key });
    expect(trimmed.status).toBe(200);
    expect(Object.keys(trimmed.body).sort()).toEqual(['definition', 'name']);
    expect(trimmed.body.definition.nodes).toHaveLength(4);

    const unknown = await api('GET', `/v1/streams/${stream.id}?version=v9`, { key });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('v9');
  });

  it('refuses a duplicate tag with 409 and bad tag names with 400', async () => {
    const { key } = await newTenant();
    const stream = await newStream(key);
    expect((await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'release-1.0' } })).status).toBe(201);
    expect((await setBundleSize(key, stream.id, 42)).status).toBe(200);
    const duplicate = await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'release-1.0' } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('conflict');
    // The refused tagging did not refreeze the tag.
    const tagged = await api('GET', `/v1/streams/${stream.id}?version=release-1.0`, { key });
    expect(tagged.body.definition.settings.dataBundleSize).toBe(500);

    for (const tag of ['autosave', 'AutoSave', 'a/b', 'has space', '', 'x'.repeat(65)]) {
      const res = await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag } });
      expect(res.status, tag).toBe(400);
      expect(res.body.error.details[0].path).toBe('tag');
    }
    const versions = await api('GET', `/v1/streams/${stream.id}/versions`, { key });
    expect(versions.body.items.map((v: { version: string }) => v.version)).toEqual(['autosave', 'release-1.0']);

    const missing = await api('POST', '/v1/streams/stm_01ARZ3NDEKTSV4RRFFQ69G5FAV/versions', { key, body: { tag: 'v1' } });
    expect(missing.status).toBe(404);
    const other = await newTenant();
    expect((await api('GET', `/v1/streams/${stream.id}/versions`, { key: other.key })).status).toBe(404);
  });

  it('allows 100 tags and refuses the 101st with 409, and pages the list', async () => {
    const { key } = await newTenant();
    const stream = await newStream(key);
    for (let batch = 0; batch < 10; batch++) {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: `t${batch * 10 + i + 1}` } })),
      );
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    }
    const over = await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 't101' } });
    expect(over.status).toBe(409);
    expect(over.body.error.message).toContain('100');

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api('GET', `/v1/streams/${stream.id}/versions?limit=40${cursor ? `&cursor=${cursor}` : ''}`, { key });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((v: { version: string }) => v.version));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(101);
    expect(seen[0]).toBe('autosave');
    expect(new Set(seen.slice(1))).toEqual(new Set(Array.from({ length: 100 }, (_, i) => `t${i + 1}`)));
    expect(seen).not.toContain('t101');
    expect((await api('GET', `/v1/streams/${stream.id}?version=t101`, { key })).status).toBe(404);
  });

  it('gives one of 20 concurrent taggings of one name a 201 and the rest 409, and counts one tag', async () => {
    const { key } = await newTenant();
    const stream = await newStream(key);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'race', description: `caller ${i}` } }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array(19).fill(409)]);
    const winner = results.find((r) => r.status === 201)!;

    const versions = await api('GET', `/v1/streams/${stream.id}/versions`, { key });
    expect(versions.body.items).toHaveLength(2);
    expect(versions.body.items[1]).toMatchObject({ version: 'race', description: winner.body.description });

    const { client: doc, tableName: name } = tableReader();
    const item = await doc.send(new GetCommand({ TableName: name, Key: { PK: `STM#${stream.id}`, SK: 'STREAM' }, ConsistentRead: true }));
    expect(item.Item?.tagCount).toBe(1);
  });

  it('keeps the tag count and deployment right while edits race with tagging', async () => {
    const { key } = await newTenant();
    const stream = await newStream(key);
    expect((await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'base' } })).status).toBe(201);
    // Tags, edits and one deploy at once: edits must not put back a stale tagCount or deployment.
    const calls = Array.from({ length: 12 }, (_, i) =>
      i % 2 === 0
        ? api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: `r${i}` } })
        : i === 5
          ? api('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'base' } })
          : setBundleSize(key, stream.id, 100 + i),
    );
    const results = await Promise.all(calls);
    expect(results.map((r) => r.status)).toEqual(results.map((_, i) => (i % 2 === 0 ? 201 : 200)));

    const { client: doc, tableName: name } = tableReader();
    const item = await doc.send(new GetCommand({ TableName: name, Key: { PK: `STM#${stream.id}`, SK: 'STREAM' }, ConsistentRead: true }));
    expect(item.Item?.tagCount).toBe(7);
    expect(item.Item?.deployment).toMatchObject({ phase: 'deployed', version: 'base' });
    const versions = await api('GET', `/v1/streams/${stream.id}/versions`, { key });
    expect(versions.body.items).toHaveLength(8);
  });

  it('diffs two versions: nodes, edges, settings and mode', async () => {
    const { key } = await newTenant();
    const stream = await newStream(key);
    expect((await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'v1' } })).status).toBe(201);
    const changed = {
      ...withFilter,
      mode: 'continuous',
      nodes: withFilter.nodes.map((n) => (n.id === 'm' ? { ...n, config: { ...n.config, groupBy: ['account', 'site'] } } : n)),
      settings: { dataBundleSize: 50 },
    };
    expect((await api('PUT', `/v1/streams/${stream.id}`, { key, body: { name: stream.name, definition: changed } })).status).toBe(200);
    expect((await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'v2' } })).status).toBe(201);

    const diff = await api('GET', `/v1/streams/${stream.id}/versions/v1/diff/v2`, { key });
    expect(diff.status).toBe(200);
    expect(diff.body).toMatchObject({
      from: { version: 'v1', revision: 1 },
      to: { version: 'v2', revision: 2 },
      identical: false,
      nodes: { added: [{ id: 'f', type: 'filter' }], removed: [], changed: [{ id: 'm', type: 'meter', fields: ['config.groupBy'] }] },
      mode: { changed: true, from: 'batch', to: 'continuous' },
      schedule: { changed: false },
      settings: { changed: [{ path: 'settings.dataBundleSize', from: 500, to: 50 }] },
    });
    expect(diff.body.edges.added).toEqual([
      { from: 'in', to: 'f' },
      { from: 'f', to: 'm' },
    ]);
    expect(diff.body.edges.removed).toEqual([{ from: 'in', to: 'm' }]);

    const back = await api('GET', `/v1/streams/${stream.id}/versions/v2/diff/v1`, { key });
    expect(back.body.nodes.removed).toEqual([{ id: 'f', type: 'filter' }]);
    const same = await api('GET', `/v1/streams/${stream.id}/versions/v2/diff/autosave`, { key });
    expect(same.body.identical).toBe(true);
    expect((await api('GET', `/v1/streams/${stream.id}/versions/v1/diff/nope`, { key })).status).toBe(404);
  });
});

describe('export and import', () => {
  it('exports v1, imports it into another solution with an admin key, and resolves name conflicts each way', async () => {
    const dev = await newTenant();
    const prod = await newTenant();
    const stream = await newStream(dev.key, { namespace: 'billing', description: 'kWh per account' });
    expect((await api('POST', `/v1/streams/${stream.id}/versions`, { key: dev.key, body: { tag: 'v1' } })).status).toBe(201);
    expect((await setBundleSize(dev.key, stream.id, 123)).status).toBe(200);

    const exported = await api('GET', `/v1/streams/${stream.id}/export?version=v1`, { key: dev.key });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toMatch(/^attachment; filename=".+-v1\.sluice\.json"$/);
    expect(exported.body).toMatchObject({ format: 'sluice.stream/v1', name: stream.name, namespace: 'billing', description: 'kWh per account', version: 'v1' });
    expect(exported.body.definition.settings.dataBundleSize).toBe(500);
    expect(Date.parse(exported.body.exportedAt)).not.toBeNaN();
    const document = exported.body;
    const latest = await api('GET', `/v1/streams/${stream.id}/export`, { key: dev.key });
    expect(latest.body.version).toBe('autosave');
    expect(latest.body.definition.settings.dataBundleSize).toBe(123);

    const importInto = (onConflict?: string, extra = '', body: unknown = document) =>
      api('POST', `/v1/streams/import?solutionId=${prod.solution.id}${onConflict ? `&onConflict=${onConflict}` : ''}${extra}`, { body });

    const first = await importInto();
    expect(first.status).toBe(201);
    expect(first.body.result).toBe('created');
    expect(first.body.stream).toMatchObject({ solutionId: prod.solution.id, name: stream.name, namespace: 'billing', revision: 1 });
    const imported = await api('GET', `/v1/streams/${first.body.stream.id}`, { key: prod.key });
    expect(imported.status).toBe(200);
    expect(imported.body.definition).toEqual(document.definition);
    expect(imported.body.description).toBe('kWh per account');
    expect((await api('GET', `/v1/streams/${first.body.stream.id}`, { key: dev.key })).status).toBe(404);

    const failed = await importInto();
    expect(failed.status).toBe(409);
    expect(failed.body.error.message).toContain('onConflict');
    expect((await importInto('fail')).status).toBe(409);

    const skipped = await importInto('skip');
    expect(skipped.status).toBe(200);
    expect(skipped.body).toMatchObject({ result: 'skipped', stream: { id: first.body.stream.id, revision: 1 } });

    const copy = await importInto('create-new');
    expect(copy.status).toBe(201);
    expect(copy.body.result).toBe('renamed');
    expect(copy.body.stream.name).toBe(`${stream.name} (2)`);
    const copy3 = await importInto('create-new');
    expect(copy3.body.stream.name).toBe(`${stream.name} (3)`);

    const edited = structuredClone(document);
    edited.definition.nodes[1].config.aggregates.kwh.fn = 'max';
    const overwritten = await importInto('overwrite', '', edited);
    expect(overwritten.status).toBe(200);
    expect(overwritten.body.result).toBe('overwritten');
    expect(overwritten.body.stream).toMatchObject({ id: first.body.stream.id, revision: 2 });
    const after = await api('GET', `/v1/streams/${first.body.stream.id}`, { key: prod.key });
    expect(after.body.definition.nodes[1].config.aggregates.kwh.fn).toBe('max');
    const versions = await api('GET', `/v1/streams/${first.body.stream.id}/versions`, { key: prod.key });
    expect(versions.body.items[0]).toMatchObject({ version: 'autosave', revision: 2 });

    const list = await api('GET', '/v1/streams?namespace=billing', { key: prod.key });
    expect(list.body.items.map((s: { name: string }) => s.name).sort()).toEqual([stream.name, `${stream.name} (2)`, `${stream.name} (3)`].sort());
  });

  it('refuses an overwrite that drops nodes with 409 naming them unless allowNodeDeletions=true', async () => {
    const { key } = await newTenant();
    const stream = await newStream(key, { definition: withFilter });
    const document = (await api('GET', `/v1/streams/${stream.id}/export`, { key })).body;
    const smaller = { ...document, definition };

    const refused = await api('POST', '/v1/streams/import?onConflict=overwrite', { key, body: smaller });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('f');
    expect(refused.body.error.details).toEqual([{ path: 'definition.nodes', message: 'node f would be deleted' }]);
    const unchanged = await api('GET', `/v1/streams/${stream.id}`, { key });
    expect(unchanged.body.revision).toBe(1);
    expect(unchanged.body.definition.nodes).toHaveLength(4);

    const explicitFalse = await api('POST', '/v1/streams/import?onConflict=overwrite&allowNodeDeletions=false', { key, body: smaller });
    expect(explicitFalse.status).toBe(409);

    const allowed = await api('POST', '/v1/streams/import?onConflict=overwrite&allowNodeDeletions=true', { key, body: { ...smaller, tag: 'slim' } });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ result: 'overwritten', stream: { id: stream.id, revision: 2 } });
    expect(allowed.body.stream.definition.nodes.map((n: { id: string }) => n.id)).toEqual(['in', 'm', 'out']);
    const tagged = await api('GET', `/v1/streams/${stream.id}?version=slim`, { key });
    expect(tagged.status).toBe(200);
    expect(tagged.body.definition.nodes).toHaveLength(3);

    // The same tag again: refused before anything is overwritten.
    const retag = await api('POST', '/v1/streams/import?onConflict=overwrite&allowNodeDeletions=true', {
      key,
      body: { ...document, tag: 'slim' },
    });
    expect(retag.status).toBe(409);
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).body.revision).toBe(2);
  });

  it('creates a tagged version on import and keeps solutionId to admin keys', async () => {
    const { key } = await newTenant();
    const other = await newTenant();
    const document = { format: 'sluice.stream/v1', name: unique('imported'), definition, tag: 'v1' };
    const res = await api('POST', '/v1/streams/import', { key, body: document });
    expect(res.status).toBe(201);
    expect(res.body.result).toBe('created');
    expect(res.body.stream.namespace).toBe('default');
    const versions = await api('GET', `/v1/streams/${res.body.stream.id}/versions`, { key });
    expect(versions.body.items.map((v: { version: string }) => v.version)).toEqual(['autosave', 'v1']);

    const foreign = await api('POST', `/v1/streams/import?solutionId=${other.solution.id}`, { key, body: { ...document, name: unique('x') } });
    expect(foreign.status).toBe(403);
    const own = await api('POST', `/v1/streams/import?solutionId=${(await api('GET', `/v1/streams/${res.body.stream.id}`, { key })).body.solutionId}`, {
      key,
      body: { ...document, name: unique('own'), tag: undefined },
    });
    expect(own.status).toBe(201);
    expect((await api('POST', '/v1/streams/import?solutionId=sol_01ARZ3NDEKTSV4RRFFQ69G5FAV', { body: document })).status).toBe(404);
    const bad = await api('POST', '/v1/streams/import?onConflict=replace', { key, body: document });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('onConflict');
  });

  it('replays an import with the same Idempotency-Key instead of creating a second copy', async () => {
    const { key } = await newTenant();
    const stream = await newStream(key);
    const document = (await api('GET', `/v1/streams/${stream.id}/export`, { key })).body;
    const headers = { 'idempotency-key': unique('idem') };
    const first = await api('POST', '/v1/streams/import?onConflict=create-new', { key, body: document, headers });
    const again = await api('POST', '/v1/streams/import?onConflict=create-new', { key, body: document, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.stream.id).toBe(first.body.stream.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const list = await api('GET', '/v1/streams', { key });
    expect(list.body.items).toHaveLength(2);
  });

  it('refuses malformed documents with 400 or 413 and changes nothing', async () => {
    const { key } = await newTenant();
    const stream = await newStream(key);
    const document = (await api('GET', `/v1/streams/${stream.id}/export`, { key })).body;
    const before = await api('GET', `/v1/streams/${stream.id}`, { key });

    const wrongFormat = await api('POST', '/v1/streams/import?onConflict=overwrite&allowNodeDeletions=true', {
      key,
      body: { ...document, format: 'usagecloud/v0' },
    });
    expect(wrongFormat.status).toBe(400);
    expect(wrongFormat.body.error.message).toContain('sluice.stream/v1');
    expect(wrongFormat.body.error.details[0].path).toBe('format');

    const noFormat = await api('POST', '/v1/streams/import', { key, body: { name: unique('n'), definition } });
    expect(noFormat.status).toBe(400);
    expect(noFormat.body.error.details[0].path).toBe('format');

    const badGraph = { ...document, definition: { ...definition, edges: [...definition.edges, { from: 'm', to: 'ghost' }] } };
    const invalidDefinition = await api('POST', '/v1/streams/import?onConflict=overwrite&allowNodeDeletions=true', { key, body: badGraph });
    expect(invalidDefinition.status).toBe(400);
    expect(invalidDefinition.body.error.details).toContainEqual({ path: 'definition.edges[2].to', message: 'no node ghost' });

    const badType = await api('POST', '/v1/streams/import', { key, body: { ...document, name: unique('n'), definition: { nodes: [{ id: 'a', type: 'teleporter' }] } } });
    expect(badType.status).toBe(400);
    expect(badType.body.error.details[0].path).toBe('definition.nodes[0].type');

    const noDefinition = await api('POST', '/v1/streams/import', { key, body: { ...document, name: unique('n'), definition: 'nodes' } });
    expect(noDefinition.status).toBe(400);
    expect(noDefinition.body.error.details[0].path).toBe('definition');

    const notJson = await api('POST', '/v1/streams/import', { key, raw: '{"format": "sluice.stream/v1",', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toContain('JSON');

    const padding = 'x'.repeat(6 * 1024 * 1024);
    const huge = await api('POST', '/v1/streams/import', { key, body: { ...document, name: unique('big'), description: padding } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('too_large');

    const after = await api('GET', `/v1/streams/${stream.id}`, { key });
    expect(after.body).toEqual(before.body);
    const list = await api('GET', '/v1/streams', { key });
    expect(list.body.items.map((s: { id: string }) => s.id)).toEqual([stream.id]);
  });
});

describe('deploy and undeploy', () => {
  it('deploys a tag, refuses autosave and unknown tags, and undeploys', async () => {
    const { key } = await newTenant();
    const stream = await newStream(key);
    expect((await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'v1' } })).status).toBe(201);

    const autosave = await api('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'autosave' } });
    expect(autosave.status).toBe(400);
    expect(autosave.body.error.message).toContain('tag it first');
    const unknown = await api('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'v7' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0].path).toBe('version');
    expect((await api('POST', `/v1/streams/${stream.id}/deploy`, { key, body: {} })).status).toBe(400);
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).body.deployment).toBeNull();

    const deployed = await api('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'v1' } });
    expect(deployed.status).toBe(200);
    expect(deployed.body).toMatchObject({ streamId: stream.id, phase: 'deployed', version: 'v1' });
    const read = await api('GET', `/v1/streams/${stream.id}`, { key });
    expect(read.body.deployment).toEqual({ phase: 'deployed', version: 'v1', deployedAt: deployed.body.deployedAt });

    // Editing the stream keeps the deployment (edits write only the editable fields).
    expect((await setBundleSize(key, stream.id, 64)).status).toBe(200);
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).body.deployment).toMatchObject({ phase: 'deployed', version: 'v1' });

    const undeployed = await api('POST', `/v1/streams/${stream.id}/undeploy`, { key });
    expect(undeployed.status).toBe(200);
    expect(undeployed.body).toMatchObject({ phase: 'undeployed', version: 'v1' });
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).body.deployment).toMatchObject({ phase: 'undeployed', version: 'v1' });
    const again = await api('POST', `/v1/streams/${stream.id}/undeploy`, { key });
    expect(again.status).toBe(200);
    expect(again.body.undeployedAt).toBe(undeployed.body.undeployedAt);

    expect((await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'v2' } })).status).toBe(201);
    const redeployed = await api('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'v2' } });
    expect(redeployed.body).toMatchObject({ phase: 'deployed', version: 'v2' });
  });

  it('needs runs:write, and undeploy is 409 for a stream never deployed or with an active run', async () => {
    const { key } = await newTenant();
    const readOnly = await newTenant(['streams:read', 'streams:write']);
    const stream = await newStream(key);
    expect((await api('POST', `/v1/streams/${stream.id}/undeploy`, { key })).status).toBe(409);
    expect((await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'v1' } })).status).toBe(201);
    const noScope = await newStream(readOnly.key);
    expect((await api('POST', `/v1/streams/${noScope.id}/deploy`, { key: readOnly.key, body: { version: 'v1' } })).status).toBe(403);

    expect((await api('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'v1' } })).status).toBe(200);
    const { client: doc, tableName: name } = tableReader();
    await doc.send(
      new UpdateCommand({
        TableName: name,
        Key: { PK: `STM#${stream.id}`, SK: 'STREAM' },
        UpdateExpression: 'SET activeRun = :run',
        ExpressionAttributeValues: { ':run': { id: 'run_01ARZ3NDEKTSV4RRFFQ69G5FAV', status: 'running' } },
      }),
    );
    const busy = await api('POST', `/v1/streams/${stream.id}/undeploy`, { key });
    expect(busy.status).toBe(409);
    expect(busy.body.error.message).toContain('active run');
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).body.deployment.phase).toBe('deployed');
  });

  it('deploys only when the referenced streams and connections exist in the solution', async () => {
    const { key } = await newTenant();
    const other = await newTenant();
    const target = await newStream(key);
    const foreign = await newStream(other.key);
    const linked = (streamId: string, connectionId: string) => ({
      nodes: [
        { id: 'db', type: 'table-source', config: { connectionId, tables: [{ name: 'readings' }] } },
        { id: 'ds', type: 'dataset-source', config: { streamId } },
        { id: 'out', type: 'packet-sink', config: { streamId } },
      ],
      edges: [
        { from: 'db', to: 'out' },
        { from: 'ds', to: 'out' },
      ],
    });
    const newConnection = async () => {
      const created = await api('POST', '/v1/connections', { key, body: { name: unique('conn'), type: 'postgresql', host: '127.0.0.1', database: 'db', username: 'u' } });
      expect(created.status, created.text).toBe(201);
      return created.body.id as string;
    };
    // A stream write needs its connections to exist (docs/connections.md "Claims"); a tag may outlive one:
    // tagged while the stream named it, deleted once the stream named another.
    const [gone, kept] = [await newConnection(), await newConnection()];
    const stream = await newStream(key, { definition: linked(foreign.id, gone) });
    expect((await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'broken' } })).status).toBe(201);
    expect((await api('PUT', `/v1/streams/${stream.id}`, { key, body: { name: stream.name, definition: linked(target.id, kept) } })).status).toBe(200);
    expect((await api('DELETE', `/v1/connections/${gone}`, { key })).status).toBe(204);

    const refused = await api('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'broken' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([
      { path: 'definition.nodes[0].config.connectionId', message: `connection ${gone} does not exist in this solution` },
      { path: 'definition.nodes[1].config.streamId', message: `stream ${foreign.id} does not exist in this solution` },
      { path: 'definition.nodes[2].config.streamId', message: `stream ${foreign.id} does not exist in this solution` },
    ]);
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).body.deployment).toBeNull();

    expect((await api('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'fixed' } })).status).toBe(201);
    const deployed = await api('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'fixed' } });
    expect(deployed.status).toBe(200);
    expect(deployed.body).toMatchObject({ phase: 'deployed', version: 'fixed' });
    // The broken tag stays undeployable even while another tag is deployed.
    expect((await api('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'broken' } })).status).toBe(400);
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).body.deployment.version).toBe('fixed');
  });

});
