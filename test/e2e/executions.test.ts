import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';

async function newStream(key: string) {
  const res = await api('POST', '/v1/streams', { key, body: { name: unique('ds') } });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const csv = (rows: string[][]) => rows.map((r) => r.join(',')).join('\n') + '\n';

async function putPart(key: string, streamId: string, exe: string, partId: number | string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'text/csv' }) {
  return api('PUT', `/v1/streams/${streamId}/executions/${exe}/parts/${partId}`, { key, raw: body, headers });
}

/** Follows the 302 as a client does and returns the CSV text. */
async function download(key: string, streamId: string): Promise<string> {
  const res = await api('GET', `/v1/streams/${streamId}/dataset/data`, { key });
  expect(res.status).toBe(302);
  const data = await fetch(res.headers.get('location')!);
  expect(data.status).toBe(200);
  return data.text();
}

async function execution(key: string, streamId: string, body: unknown = {}) {
  const res = await api('POST', `/v1/streams/${streamId}/executions`, { key, body });
  expect(res.status).toBe(201);
  return res.body as { id: string; number: number; state: string; updateMethod: string };
}

const commit = (key: string, streamId: string, exe: string, body?: unknown) => api('POST', `/v1/streams/${streamId}/executions/${exe}/commit`, { key, body });

describe('executions and datasets (native)', () => {
  it('commits parts in partId order, appends, replaces, upserts; an abort changes nothing', async () => {
    const { key } = await newTenant();
    const stm = await newStream(key);
    const empty = await api('GET', `/v1/streams/${stm}/dataset`, { key });
    expect(empty.body).toMatchObject({ version: 0, rows: 0, schema: null });
    expect((await api('GET', `/v1/streams/${stm}/dataset/data`, { key })).status).toBe(404);

    const e1 = await execution(key, stm);
    expect(e1).toMatchObject({ number: 1, state: 'ACTIVE', updateMethod: 'APPEND' });
    expect(e1.id).toMatch(/^exe_/);
    // A second ACTIVE execution on the same stream is refused.
    expect((await api('POST', `/v1/streams/${stm}/executions`, { key, body: {} })).status).toBe(409);
    // Out of order, one part gzipped.
    expect((await putPart(key, stm, e1.id, 3, csv([['5', 'e'], ['6', 'f']]))).status).toBe(200);
    expect((await putPart(key, stm, e1.id, 1, gzipSync(csv([['1', 'a'], ['2', 'b']])), { 'content-type': 'text/csv', 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await putPart(key, stm, e1.id, 2, csv([['9', 'x']]))).status).toBe(200);
    // A re-upload replaces the part.
    expect((await putPart(key, stm, e1.id, 2, csv([['3', 'c'], ['4', '"d, quoted"']]))).status).toBe(200);
    const c1 = await commit(key, stm, e1.id);
    expect(c1.status).toBe(200);
    expect(c1.body).toMatchObject({ state: 'SUCCESS', version: 1, rows: 6 });
    expect(await download(key, stm)).toBe('1,a\n2,b\n3,c\n4,"d, quoted"\n5,e\n6,f\n');
    const ds1 = await api('GET', `/v1/streams/${stm}/dataset`, { key });
    expect(ds1.body).toMatchObject({ version: 1, rows: 6, updateMethod: 'APPEND', schema: { columns: [{ name: 'col1' }, { name: 'col2' }] } });
    expect(ds1.body.bytes).toBe(Buffer.byteLength('1,a\n2,b\n3,c\n4,"d, quoted"\n5,e\n6,f\n'));

    // A part after the commit is refused.
    expect((await putPart(key, stm, e1.id, 4, csv([['7', 'g']]))).status).toBe(409);

    const e2 = await execution(key, stm);
    await putPart(key, stm, e2.id, 1, '7,g'); // no final newline: the version still ends with one
    expect((await commit(key, stm, e2.id)).body).toMatchObject({ state: 'SUCCESS', version: 2, rows: 7 });
    expect(await download(key, stm)).toBe('1,a\n2,b\n3,c\n4,"d, quoted"\n5,e\n6,f\n7,g\n');

    const aborted = await execution(key, stm);
    await putPart(key, stm, aborted.id, 1, csv([['zz', 'zz']]));
    const abort = await api('POST', `/v1/streams/${stm}/executions/${aborted.id}/abort`, { key });
    expect(abort.body).toMatchObject({ state: 'ABORTED' });
    expect((await commit(key, stm, aborted.id)).status).toBe(409);
    expect((await api('GET', `/v1/streams/${stm}/dataset`, { key })).body).toMatchObject({ version: 2, rows: 7 });

    const e3 = await execution(key, stm, { updateMethod: 'REPLACE' });
    await putPart(key, stm, e3.id, 1, csv([['8', 'h']]));
    expect((await commit(key, stm, e3.id)).body).toMatchObject({ version: 3, rows: 1, updateMethod: 'REPLACE' });
    expect(await download(key, stm)).toBe('8,h\n');

    const e4 = await execution(key, stm, { updateMethod: 'UPSERT', keyColumnNames: ['col1'] });
    await putPart(key, stm, e4.id, 1, csv([['8', 'H'], ['9', 'i'], ['9', 'I']]));
    expect((await commit(key, stm, e4.id)).body).toMatchObject({ version: 4, rows: 2 });
    expect(await download(key, stm)).toBe('8,H\n9,I\n');

    const list = await api('GET', `/v1/streams/${stm}/executions`, { key });
    expect(list.body.items.map((e: { number: number; state: string }) => [e.number, e.state])).toEqual([
      [5, 'SUCCESS'], [4, 'SUCCESS'], [3, 'ABORTED'], [2, 'SUCCESS'], [1, 'SUCCESS'],
    ]);
  });

  it('lets 10 readers downloading during a REPLACE commit see the complete old or the complete new version', async () => {
    const { key } = await newTenant();
    const stm = await newStream(key);
    const rows = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}${i},${tag}-value-${i},${i * 7}`).join('\n') + '\n';
    const oldCsv = rows('old', 25_000);
    const newCsv = rows('new', 25_000);
    const e1 = await execution(key, stm);
    expect((await putPart(key, stm, e1.id, 1, oldCsv)).status).toBe(200);
    expect((await commit(key, stm, e1.id)).status).toBe(200);
    expect(await download(key, stm)).toBe(oldCsv);

    const e2 = await execution(key, stm, { updateMethod: 'REPLACE' });
    expect((await putPart(key, stm, e2.id, 1, newCsv)).status).toBe(200);
    let committing = true;
    const seen: string[] = [];
    const reader = async () => {
      do {
        const body = await download(key, stm);
        seen.push(body === oldCsv ? 'old' : body === newCsv ? 'new' : `mixed:${body.length}`);
      } while (committing);
      seen.push((await download(key, stm)) === newCsv ? 'new' : 'not-new');
    };
    const readers = Array.from({ length: 10 }, reader);
    const committed = commit(key, stm, e2.id).finally(() => (committing = false));
    await Promise.all([committed, ...readers]);
    expect((await committed).status).toBe(200);
    expect(seen.filter((s) => s !== 'old' && s !== 'new')).toEqual([]);
    expect(seen).toContain('old');
    expect(seen.slice(-1)).toEqual(['new']);
  });

  it('lets exactly one of two concurrent commits win; the other gets 409', async () => {
    const { key } = await newTenant();
    const stm = await newStream(key);
    const e1 = await execution(key, stm);
    await putPart(key, stm, e1.id, 1, csv([['1', 'a'], ['2', 'b']]));
    const results = await Promise.all([commit(key, stm, e1.id), commit(key, stm, e1.id)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(results.find((r) => r.status === 409)!.body.error.code).toBe('conflict');
    expect((await api('GET', `/v1/streams/${stm}/dataset`, { key })).body).toMatchObject({ version: 1, rows: 2 });
    expect(await download(key, stm)).toBe('1,a\n2,b\n');
    expect((await putPart(key, stm, e1.id, 2, csv([['3', 'c']]))).status).toBe(409);
  });

  it('refuses bad input with a clear 4xx and changes nothing', async () => {
    const { key } = await newTenant();
    const stm = await newStream(key);
    const e1 = await execution(key, stm);
    await putPart(key, stm, e1.id, 1, csv([['1', 'a']]));
    await commit(key, stm, e1.id);
    const e2 = await execution(key, stm);

    const malformed = await putPart(key, stm, e2.id, 1, '1,a\n2,"b\n');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toMatch(/part 1, line 2/);
    const wrongColumns = await putPart(key, stm, e2.id, 1, '1,a\n2,b\n3,c,extra\n');
    expect(wrongColumns.status).toBe(400);
    expect(wrongColumns.body.error.message).toMatch(/part 1, line 3: expected 2 columns, found 3/);
    for (const partId of ['abc', '0', '1.5', '-1']) {
      const res = await putPart(key, stm, e2.id, partId, csv([['1', 'a']]));
      expect(res.status, partId).toBe(400);
      expect(res.body.error.message).toMatch(/part id/);
    }
    const big = await putPart(key, stm, e2.id, 1, Buffer.alloc(6 * 1024 * 1024, 'a'));
    expect(big.status).toBe(413);
    expect((await putPart(key, stm, e2.id, 1, '{"a":1}', { 'content-type': 'application/json' })).status).toBe(415);
    expect((await putPart(key, stm, e2.id, 1, 'not gzip', { 'content-type': 'application/gzip' })).status).toBe(400);
    expect((await api('POST', `/v1/streams/${stm}/executions/${e2.id}/commit`, { key, body: { updateMethod: 'SIDEWAYS' } })).status).toBe(400);
    expect((await api('GET', `/v1/streams/${stm}/executions/exe_01ARZ3NDEKTSV4RRFFQ69G5FAV`, { key })).status).toBe(404);

    // Parts are checked against each other at commit when no schema existed at upload.
    const fresh = await newStream(key);
    const e9 = await execution(key, fresh);
    expect((await putPart(key, fresh, e9.id, 1, '1,a')).status).toBe(200);
    expect((await putPart(key, fresh, e9.id, 2, '2,b,c\n')).status).toBe(200);
    const mismatch = await commit(key, fresh, e9.id);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.message).toMatch(/part 2, line 1: expected 2 columns, found 3/);
    expect((await api('GET', `/v1/streams/${fresh}/dataset`, { key })).body).toMatchObject({ version: 0 });

    // None of it reached the dataset or the execution.
    const committed = await commit(key, stm, e2.id);
    expect(committed.body).toMatchObject({ state: 'SUCCESS', version: 2, rows: 1 });
    expect(await download(key, stm)).toBe('1,a\n');
  });

  it('accepts large parts through presigned PUTs and fails the commit (dataset unchanged) when one is bad', async () => {
    const { key } = await newTenant();
    const stm = await newStream(key);
    const e1 = await execution(key, stm);
    const url = await api('POST', `/v1/streams/${stm}/executions/${e1.id}/parts/2/upload-url`, { key });
    expect(url.status).toBe(201);
    expect((await fetch(url.body.url, { method: 'PUT', body: gzipSync(csv([['3', 'c'], ['4', 'd']])) })).status).toBe(200);
    await putPart(key, stm, e1.id, 1, csv([['1', 'a'], ['2', 'b']]));
    expect((await commit(key, stm, e1.id)).body).toMatchObject({ state: 'SUCCESS', rows: 4 });
    expect(await download(key, stm)).toBe('1,a\n2,b\n3,c\n4,d\n');

    const e2 = await execution(key, stm);
    const bad = await api('POST', `/v1/streams/${stm}/executions/${e2.id}/parts/1/upload-url`, { key });
    expect((await fetch(bad.body.url, { method: 'PUT', body: '5,e\n6,f,g\n' })).status).toBe(200);
    const failed = await commit(key, stm, e2.id);
    expect(failed.status).toBe(400);
    expect(failed.body.error.message).toMatch(/part 1, line 2/);
    const after = await api('GET', `/v1/streams/${stm}/executions/${e2.id}`, { key });
    expect(after.body).toMatchObject({ state: 'FAILED' });
    expect(after.body.error).toMatch(/line 2/);
    expect((await api('GET', `/v1/streams/${stm}/dataset`, { key })).body).toMatchObject({ version: 1, rows: 4 });

    // The FAILED execution released the stream: a new one can start; a never-uploaded part fails it.
    const e3 = await execution(key, stm);
    await api('POST', `/v1/streams/${stm}/executions/${e3.id}/parts/1/upload-url`, { key });
    const missing = await commit(key, stm, e3.id);
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/never uploaded/);
    expect(await download(key, stm)).toBe('1,a\n2,b\n3,c\n4,d\n');
  });

  it('keeps executions and datasets to their own solution', async () => {
    const owner = await newTenant();
    const other = await newTenant();
    const stm = await newStream(owner.key);
    const e1 = await execution(owner.key, stm);
    expect((await api('GET', `/v1/streams/${stm}/executions/${e1.id}`, { key: other.key })).status).toBe(404);
    expect((await api('POST', `/v1/streams/${stm}/executions`, { key: other.key, body: {} })).status).toBe(404);
    expect((await api('GET', `/v1/streams/${stm}/dataset`, { key: other.key })).status).toBe(404);
    const reader = await newTenant(['streams:read']);
    expect((await api('GET', `/v1/streams/${stm}/dataset`, { key: reader.key })).status).toBe(403);
  });
});
