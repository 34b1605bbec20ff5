import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';

const BASE = '/api/data/v1/streams';

/** The seed's creation JSON (seed 001), with a unique data source name. */
const seedCreation = (name: string) => ({
  transport: { type: 'SFTP' },
  dataSource: { name, description: 'This will bring about world peace' },
  account: { id: 19 },
});

const csv = (rows: string[][]) => rows.map((r) => r.join(',')).join('\n') + '\n';

async function createDomo(key: string, body: unknown) {
  const res = await api('POST', BASE, { key, body });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function datasetCsv(key: string, sluiceStreamId: string): Promise<string> {
  const res = await api('GET', `/v1/streams/${sluiceStreamId}/dataset/data`, { key });
  expect(res.status).toBe(302);
  return (await fetch(res.headers.get('location')!)).text();
}

const RETRIEVAL_FIELDS = [
  'id', 'valid', 'transport', 'configuration', 'schedule', 'account', 'dataProvider', 'dataSource', 'playbookRegistryId',
  'executions', 'changes', 'createdAt', 'createdBy', 'modifiedAt', 'modifiedBy',
];

describe('Domo Streams face', () => {
  it('creates a stream from the seed JSON, gets it with the retrieval fields and finds it by each search field', async () => {
    const { key } = await newTenant();
    const name = unique('My New DataSet');
    const created = await createDomo(key, seedCreation(name));
    expect(Number.isInteger(created.id)).toBe(true);
    const got = await api('GET', `${BASE}/${created.id}`, { key });
    expect(got.status).toBe(200);
    for (const field of RETRIEVAL_FIELDS) expect(got.body, field).toHaveProperty(field);
    expect(got.body).toMatchObject({
      id: created.id,
      valid: true,
      transport: { type: 'SFTP' },
      account: { id: 19 },
      dataSource: { name, description: 'This will bring about world peace' },
      executions: [],
      changes: [],
      schedule: null,
    });
    expect(got.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(typeof got.body.dataSource.id).toBe('string');

    // It is a normal Sluice stream too.
    const native = await api('GET', `/v1/streams/${got.body.sluiceStreamId}`, { key });
    expect(native.body).toMatchObject({ name, namespace: 'domo' });

    // A second stream to show that search filters; it carries an owner and account configurations.
    const second = await createDomo(key, {
      transport: { type: 'CONNECTOR', version: '9.1', description: 'com.domo.connector.facebook' },
      dataSource: { name: unique('Opportunities'), owner: { id: 1125436 } },
      account: { id: 5, userId: 1125436, configurations: [{ name1: 'value1' }] },
    });
    // The owner can also be set later: update changes dataSource (and nothing outside the four fields).
    const updated = await api('PUT', `${BASE}/${created.id}`, {
      key,
      body: { dataSource: { owner: { id: 777 } }, account: { id: 19, configurations: [{ region: 'eu-west-1' }] }, transport: { type: 'HTTP' } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ transport: { type: 'SFTP' }, dataSource: { name, owner: { id: 777 }, id: got.body.dataSource.id } });

    const search = async (q: string) => {
      const res = await api('GET', `${BASE}/search?q=${encodeURIComponent(q)}`, { key });
      expect(res.status, q).toBe(200);
      return (res.body as { id: number }[]).map((s) => s.id);
    };
    expect(await search(`dataSource.name:${name}`)).toEqual([created.id]);
    expect(await search(`dataSource.name:${name.slice(0, 10)}*`)).toEqual([created.id]);
    expect(await search(`dataSource.name:*${name.slice(-5)}`)).toEqual([created.id]);
    expect(await search('dataSource.name:*')).toEqual([created.id, second.id]);
    expect(await search(`dataSource.id:${got.body.dataSource.id}`)).toEqual([created.id]);
    expect(await search('dataSource.owner.id:777')).toEqual([created.id]);
    expect(await search('dataSource.owner.id:1125436')).toEqual([second.id]);
    expect(await search('transport.type:SFTP')).toEqual([created.id]);
    expect(await search('transport.type:connector')).toEqual([second.id]);
    expect(await search('account.configurations.value:eu-west-1')).toEqual([created.id]);
    expect(await search('account.configurations.value:value1')).toEqual([second.id]);
    expect(await search('transport.type:FTP')).toEqual([]);

    const unknown = await api('GET', `${BASE}/search?q=${encodeURIComponent('dataSource.color:red')}`, { key });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ status: 400, statusReason: 'Bad Request' });
    expect(unknown.body.message).toMatch(/dataSource.color/);
    expect(unknown.body.toe).toBeTruthy();
    expect((await api('GET', `${BASE}/search`, { key })).status).toBe(400);

    // Delete, then it is gone through both faces.
    expect((await api('DELETE', `${BASE}/${second.id}`, { key })).status).toBe(204);
    expect((await api('GET', `${BASE}/${second.id}`, { key })).status).toBe(404);
    expect((await api('GET', `/v1/streams/${second.sluiceStreamId}`, { key })).status).toBe(404);
    expect((await api('GET', `${BASE}/abc`, { key })).status).toBe(400);
  });

  it('runs executions: 3 parts out of order (one gzipped) commit in partId order, APPEND adds, REPLACE by body override, abort changes nothing', async () => {
    const { key } = await newTenant();
    const stream = await createDomo(key, seedCreation(unique('Sales')));
    const exec = async (body?: unknown) => {
      const res = await api('POST', `${BASE}/${stream.id}/executions`, { key, body });
      expect(res.status).toBe(201);
      expect(res.body.id).toBe(res.body.executionId);
      expect(res.body).toMatchObject({ currentState: 'ACTIVE', streamId: stream.id });
      return res.body.id as number;
    };
    const part = (e: number, partId: number, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'text/csv' }) =>
      api('PUT', `${BASE}/${stream.id}/executions/${e}/part/${partId}`, { key, raw: body, headers });
    const legacyPart = (e: number, partId: number, body: string) =>
      api('PUT', `${BASE}/${stream.id}/data/${e}/parts/${partId}`, { key, raw: body, headers: { 'content-type': 'text/csv' } });
    const finalize = (e: number, action: string, body?: unknown) => api('PUT', `${BASE}/${stream.id}/data/${e}/${action}`, { key, body });

    const e1 = await exec();
    expect((await part(e1, 3, csv([['5', 'e'], ['6', 'f']]))).status).toBe(200);
    expect((await part(e1, 1, gzipSync(csv([['1', 'a'], ['2', 'b']])), { 'content-type': 'application/gzip' })).status).toBe(200);
    const legacy = await legacyPart(e1, 2, csv([['3', 'c'], ['4', 'd']]));
    expect(legacy.status).toBe(200);
    expect(legacy.body).toMatchObject({ id: e1, executionId: e1, currentState: 'ACTIVE' });
    const c1 = await finalize(e1, 'commit');
    expect(c1.status).toBe(200);
    expect(c1.body).toMatchObject({ id: e1, currentState: 'SUCCESS', rows: 6 });
    expect(await datasetCsv(key, stream.sluiceStreamId)).toBe('1,a\n2,b\n3,c\n4,d\n5,e\n6,f\n');

    const e2 = await exec();
    await part(e2, 1, csv([['7', 'g']]));
    expect((await finalize(e2, 'commit')).body).toMatchObject({ currentState: 'SUCCESS', updateMethod: 'APPEND', rows: 7 });
    expect(await datasetCsv(key, stream.sluiceStreamId)).toBe('1,a\n2,b\n3,c\n4,d\n5,e\n6,f\n7,g\n');

    const e3 = await exec();
    await part(e3, 1, csv([['8', 'h'], ['9', 'i']]));
    const c3 = await finalize(e3, 'commit', { updateMethod: 'REPLACE' });
    expect(c3.body).toMatchObject({ currentState: 'SUCCESS', updateMethod: 'REPLACE', rows: 2 });
    expect(await datasetCsv(key, stream.sluiceStreamId)).toBe('8,h\n9,i\n');

    const e4 = await exec({ updateMethod: 'REPLACE' });
    await part(e4, 1, csv([['x', 'y']]));
    expect((await finalize(e4, 'abort')).body).toMatchObject({ currentState: 'ABORTED' });
    const e5 = await exec();
    await part(e5, 1, csv([['x', 'y']]));
    const deleted = await api('DELETE', `${BASE}/${stream.id}/executions/${e5}`, { key });
    expect(deleted.body).toMatchObject({ id: e5, currentState: 'ABORTED' });
    expect(await datasetCsv(key, stream.sluiceStreamId)).toBe('8,h\n9,i\n');

    // Update an execution's method while ACTIVE; 409 once it ended.
    const e6 = await exec();
    const changed = await api('PUT', `${BASE}/${stream.id}/executions/${e6}`, { key, body: { updateMethod: 'REPLACE' } });
    expect(changed.body).toMatchObject({ updateMethod: 'REPLACE' });
    expect((await api('PUT', `${BASE}/${stream.id}/executions/${e1}`, { key, body: { updateMethod: 'REPLACE' } })).status).toBe(409);

    const list = await api('GET', `${BASE}/${stream.id}/executions`, { key });
    expect(list.body.map((e: { id: number; currentState: string }) => [e.id, e.currentState])).toEqual([
      [e6, 'ACTIVE'], [e5, 'ABORTED'], [e4, 'ABORTED'], [e3, 'SUCCESS'], [e2, 'SUCCESS'], [e1, 'SUCCESS'],
    ]);
    const one = await api('GET', `${BASE}/${stream.id}/executions/${e3}`, { key });
    expect(one.body).toMatchObject({ id: e3, executionId: e3, currentState: 'SUCCESS' });
    const got = await api('GET', `${BASE}/${stream.id}`, { key });
    expect(got.body.executions[0]).toMatchObject({ id: e6 });
    expect(got.body.dataSource).toMatchObject({ rowCount: 2 });

    // After the commit a part is 409 in Domo's error body; a finalize action other than commit/abort is 400.
    const late = await part(e1, 4, csv([['z', 'z']]));
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ status: 409, statusReason: 'Conflict' });
    expect((await finalize(e6, 'publish')).status).toBe(400);
    expect((await api('PUT', `${BASE}/${stream.id}/executions/${e6}/part/one`, { key, raw: '1,2\n', headers: { 'content-type': 'text/csv' } })).status).toBe(400);
  });

  it('checks parts against the declared schema and refuses a 6 MiB inline part', async () => {
    const { key } = await newTenant();
    const stream = await createDomo(key, {
      ...seedCreation(unique('Typed')),
      schemaDefinition: { columns: [{ type: 'STRING', name: 'Friend' }, { type: 'STRING', name: 'Attending' }] },
    });
    const e = (await api('POST', `${BASE}/${stream.id}/executions`, { key, body: {} })).body.id;
    const wrong = await api('PUT', `${BASE}/${stream.id}/executions/${e}/part/1`, { key, raw: 'a,b,c\n', headers: { 'content-type': 'text/csv' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toMatch(/line 1: expected 2 columns, found 3/);
    const malformed = await api('PUT', `${BASE}/${stream.id}/executions/${e}/part/1`, { key, raw: 'a,b\n"c,d\n', headers: { 'content-type': 'text/csv' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toMatch(/line 2/);
    const big = await api('PUT', `${BASE}/${stream.id}/executions/${e}/part/1`, { key, raw: Buffer.alloc(6 * 1024 * 1024, 'a'), headers: { 'content-type': 'text/csv' } });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ status: 413 });
    await api('PUT', `${BASE}/${stream.id}/executions/${e}/part/1`, { key, raw: 'Ann,yes\n', headers: { 'content-type': 'text/csv' } });
    expect((await api('PUT', `${BASE}/${stream.id}/data/${e}/commit`, { key })).body).toMatchObject({ currentState: 'SUCCESS', rows: 1 });
    const dataset = await api('GET', `/v1/streams/${stream.sluiceStreamId}/dataset`, { key });
    expect(dataset.body).toMatchObject({ version: 1, rows: 1, schema: { columns: [{ name: 'Friend' }, { name: 'Attending' }] } });
  });

  it('stores a valid schedule as sent and refuses an invalid one', async () => {
    const { key } = await newTenant();
    const schedule = { expression: 'R/2015-03-01T13:00:00Z/P1Y2M10DT2H30M', cron: '0 29 2 * * ? *', start: '2015-03-31T16:56:57', end: '2016-03-31T16:56:57' };
    const stream = await createDomo(key, { ...seedCreation(unique('Scheduled')), schedule });
    expect((await api('GET', `${BASE}/${stream.id}`, { key })).body.schedule).toEqual(schedule);
    // The native definition carries the EventBridge form of the cron for the scheduler.
    expect((await api('GET', `/v1/streams/${stream.sluiceStreamId}`, { key })).body.definition.schedule).toEqual({ cron: '29 2 * * ? *' });

    const name = unique('BadSchedule');
    for (const bad of [
      { cron: '0 29 2 * *' },
      { cron: '0 61 2 * * ? *' },
      { cron: '0 29 2 * * MON *' },
      { expression: 'every day' },
      { expression: 'R/2015-03-01T13:00:00Z/1 year' },
      { cron: '0 0 1 * * ?', start: 'yesterday' },
      { cron: '0 0 1 * * ?', start: '2016-01-01T00:00:00', end: '2015-01-01T00:00:00' },
      {},
    ]) {
      const res = await api('POST', BASE, { key, body: { ...seedCreation(name), schedule: bad } });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.status).toBe(400);
    }
    const search = await api('GET', `${BASE}/search?q=${encodeURIComponent(`dataSource.name:${name}`)}`, { key });
    expect(search.body).toEqual([]);
  });

  it('keeps duplicate data source names apart and other solutions out', async () => {
    const { key } = await newTenant();
    const other = await newTenant();
    const name = unique('Twice');
    const a = await createDomo(key, seedCreation(name));
    const b = await createDomo(key, seedCreation(name));
    expect(a.id).not.toBe(b.id);
    expect(a.dataSource.name).toBe(b.dataSource.name);
    const natives = await api('GET', `/v1/streams?namespace=domo&name=${encodeURIComponent(name)}`, { key });
    expect(natives.body.items.map((s: { name: string }) => s.name).sort()).toEqual([name, `${name} (domo ${b.id})`]);
    expect((await api('GET', `${BASE}/${a.id}`, { key: other.key })).status).toBe(404);
    expect((await api('POST', `${BASE}/${a.id}/executions`, { key: other.key, body: {} })).status).toBe(404);
  });
});
