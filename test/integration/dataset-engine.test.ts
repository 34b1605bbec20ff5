import { describe, expect, inject, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';

// The engine calls the dataset service in-process, with the runtime's environment.
Object.assign(process.env, inject('runtimeEnv'));
const { abortDatasetWrite, commitDatasetWrite, commitRows, openDatasetWrite, readDatasetRows, writeDatasetRows } = await import('#shared/services/dataset-engine.ts');

async function newStream() {
  const { key } = await newTenant();
  const res = await api('POST', '/v1/streams', { key, body: { name: unique('engine') } });
  return { key, id: res.body.id as string };
}

describe('the dataset service the run engine uses', () => {
  it('commits rows once per token and names columns after the first records', async () => {
    const stream = await newStream();
    const first = await commitRows(stream.id, [{ account: 'a', kwh: 1 }, { account: 'b', kwh: 2.5 }], { method: 'APPEND', token: 'run_1/1' });
    expect(first).toMatchObject({ version: 1, rows: 2, replayed: false });
    const again = await commitRows(stream.id, [{ account: 'a', kwh: 1 }, { account: 'b', kwh: 2.5 }], { method: 'APPEND', token: 'run_1/1' });
    expect(again).toMatchObject({ version: 1, rows: 2, replayed: true });
    const second = await commitRows(stream.id, [{ kwh: 3, account: 'c', extra: 'ignored' }], { method: 'APPEND', token: 'run_1/2' });
    expect(second).toMatchObject({ version: 2, rows: 3 });
    const dataset = await api('GET', `/v1/streams/${stream.id}/dataset`, { key: stream.key });
    expect(dataset.body).toMatchObject({ version: 2, rows: 3, schema: { columns: [{ name: 'account' }, { name: 'kwh' }] } });

    const upsert = await commitRows(stream.id, [{ account: 'b', kwh: 9 }], { method: 'UPSERT', keyColumnNames: ['account'], token: 'run_2/1' });
    expect(upsert).toMatchObject({ version: 3, rows: 3 });
    const all = await readDatasetRows(stream.id, undefined, 100);
    expect(all.records).toEqual([{ account: 'a', kwh: '1' }, { account: 'c', kwh: '3' }, { account: 'b', kwh: '9' }]);
  });

  it('reads rows after an offset in bounded batches, and across a new version', async () => {
    const stream = await newStream();
    const records = Array.from({ length: 25 }, (_, i) => ({ n: i, text: `row "${i}", quoted` }));
    await commitRows(stream.id, records, { method: 'APPEND', token: 'load/1' });
    const seen: unknown[] = [];
    let offset;
    for (let guard = 0; guard < 10; guard++) {
      const batch = await readDatasetRows(stream.id, offset, 10);
      seen.push(...batch.records);
      offset = batch.offset;
      if (batch.exhausted) break;
    }
    expect(seen).toEqual(records.map((r) => ({ n: String(r.n), text: r.text })));
    expect(offset).toMatchObject({ version: 1, row: 25 });
    const nothing = await readDatasetRows(stream.id, offset, 10);
    expect(nothing).toMatchObject({ records: [], exhausted: true });

    await commitRows(stream.id, [{ n: 25, text: 'late' }], { method: 'APPEND', token: 'load/2' });
    const next = await readDatasetRows(stream.id, offset, 10);
    expect(next.records).toEqual([{ n: '25', text: 'late' }]);
    expect(next.offset).toMatchObject({ version: 2, row: 26 });
  });

  it('writes a run as one version: one part per bundle, a retried bundle replaces its part, commit once', async () => {
    const stream = await newStream();
    const token = 'run_01TEST';
    const opened = await openDatasetWrite(stream.id, { method: 'REPLACE', token });
    expect(await openDatasetWrite(stream.id, { method: 'REPLACE', token })).toEqual(opened);
    await writeDatasetRows(stream.id, token, 2, [{ id: 3, v: 'c' }]);
    await writeDatasetRows(stream.id, token, 1, [{ id: 1, v: 'a' }, { id: 2, v: 'wrong' }]);
    await writeDatasetRows(stream.id, token, 1, [{ v: 'b', id: 2 }, { id: 1, v: 'a' }].reverse()); // the retried bundle 1
    const result = await commitDatasetWrite(stream.id, token);
    expect(result).toMatchObject({ version: 1, rows: 3, replayed: false });
    expect(await commitDatasetWrite(stream.id, token)).toMatchObject({ version: 1, replayed: true });
    const read = await readDatasetRows(stream.id, undefined, 10);
    expect(read.records).toEqual([{ id: '1', v: 'a' }, { id: '2', v: 'b' }, { id: '3', v: 'c' }]);

    // An aborted run leaves the dataset as it was and frees the stream.
    await openDatasetWrite(stream.id, { method: 'REPLACE', token: 'run_02TEST' });
    await writeDatasetRows(stream.id, 'run_02TEST', 1, [{ id: 9, v: 'z' }]);
    await abortDatasetWrite(stream.id, 'run_02TEST');
    await expect(openDatasetWrite(stream.id, { method: 'REPLACE', token: 'run_02TEST' })).rejects.toThrow(/ABORTED/);
    expect((await readDatasetRows(stream.id, undefined, 10)).records).toHaveLength(3);
    expect(await commitRows(stream.id, [{ id: 4, v: 'd' }], { method: 'APPEND', token: 'run_03TEST' })).toMatchObject({ version: 2, rows: 4 });
  });
});
