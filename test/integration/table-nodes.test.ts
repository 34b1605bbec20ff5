import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createTableSource, type TableSourceOffset } from '#shared/engine/nodes/table-source.ts';
import { createTableSink } from '#shared/engine/nodes/table-sink.ts';
import type { DataRecord, SinkWriter, SourceReader } from '#shared/engine/types.ts';
import { createPgItems, ITEM_COLUMNS, paramsOf, tableChecksums, tableName, testDatabases } from '../support/sql-fixtures.ts';

const ROWS = 100_000;
const dbs = () => inject('databases');

/** Drives a source and a sink bundle by bundle exactly as the engine does; keeps every bundle for replays. */
async function copy(source: SourceReader, sink: SinkWriter, bundleSize: number, runId: string) {
  let offset: TableSourceOffset | undefined;
  const bundles: DataRecord[][] = [];
  let read = 0;
  for (let bundle = 1; ; bundle++) {
    const batch = await source.read(offset, bundleSize);
    if (batch.records.length > 0) {
      await sink.write(batch.records, { runId, streamId: 'stm_test', solutionId: 'sol_test', bundle });
      bundles.push(batch.records);
      read += batch.records.length;
    }
    offset = batch.offset as TableSourceOffset;
    if (batch.exhausted) break;
  }
  return { bundles, read };
}

describe('table-source and table-sink against real PostgreSQL and MariaDB', () => {
  const db = testDatabases();
  const items = tableName('items');
  const orders = tableName('orders');

  beforeAll(async () => {
    await createPgItems(db.pg, items, ROWS);
    await db.pg.query(`CREATE TABLE ${db.pg.quote(orders)} (order_id integer, line smallint, note text, PRIMARY KEY (order_id, line))`);
    await db.pg.query(`INSERT INTO ${db.pg.quote(orders)} SELECT i / 3, i % 3, 'line ' || i FROM generate_series(0, 2999) AS i`);
  });

  it('copies 100,000 rows PostgreSQL → MySQL and back with matching counts and per-column checksums; a replayed bundle changes nothing', async () => {
    const expected = await tableChecksums(db.pg, items, ITEM_COLUMNS);
    expect(expected.count).toBe(ROWS);

    // PostgreSQL → MySQL with createStructure, a table and a custom query with a composite key.
    const source = createTableSource(paramsOf(dbs().postgresql), {
      tables: [{ name: items }, { name: orders, query: `SELECT * FROM ${orders} WHERE order_id % 2 = 0` }],
    });
    const sink = createTableSink(paramsOf(dbs().mysql), { createStructure: true, truncateTarget: true }, { describeSource: source.describe });
    const first = await copy(source, sink, 5000, 'run_1');
    expect(first.read).toBe(ROWS + 1500);
    expect(first.bundles.length).toBeGreaterThanOrEqual(21);
    const onMysql = await tableChecksums(db.my, items, ITEM_COLUMNS);
    expect(onMysql).toEqual(expected);
    const [ordersCount] = await db.my.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${db.my.quote(orders)} WHERE order_id % 2 = 0`);
    expect(Number(ordersCount.n)).toBe(1500);
    const columns = await db.my.query<{ Field: string; Type: string }>(`SHOW COLUMNS FROM ${db.my.quote(items)}`);
    expect(Object.fromEntries(columns.map((c) => [c.Field, c.Type]))).toMatchObject({
      id: 'bigint(20)', amount: 'decimal(12,2)', active: 'tinyint(1)', created: 'datetime(6)', blob: 'longblob', tag: 'varchar(32)',
    });

    // Replay bundles 1 and 3 of the same run: nothing changes (upserts, no second truncate).
    await sink.write(first.bundles[0], { runId: 'run_1', streamId: 'stm_test', solutionId: 'sol_test', bundle: 1 });
    await sink.write(first.bundles[2], { runId: 'run_1', streamId: 'stm_test', solutionId: 'sol_test', bundle: 3 });
    expect(await tableChecksums(db.my, items, ITEM_COLUMNS)).toEqual(expected);
    await sink.close!();
    await source.close!();

    // MySQL → PostgreSQL into another table name.
    const back = `${items}_back`;
    const mySource = createTableSource(paramsOf(dbs().mysql), { tables: [{ name: items }] });
    const pgSink = createTableSink(paramsOf(dbs().postgresql), { table: back, createStructure: true, truncateTarget: true }, {
      describeSource: mySource.describe,
    });
    const second = await copy(mySource, pgSink, 7000, 'run_2');
    expect(second.read).toBe(ROWS);
    expect(await tableChecksums(db.pg, back, ITEM_COLUMNS)).toEqual(expected);
    await pgSink.write(second.bundles[5], { runId: 'run_2', streamId: 'stm_test', solutionId: 'sol_test', bundle: 6 });
    expect(await tableChecksums(db.pg, back, ITEM_COLUMNS)).toEqual(expected);
    await pgSink.close!();
    await mySource.close!();
  });

  it('truncates the target once per run: a new run starts from an empty table, a retried first bundle does not wipe later ones', async () => {
    const name = tableName('trunc');
    await db.pg.query(`CREATE TABLE ${db.pg.quote(name)} (id integer PRIMARY KEY, v text)`);
    await db.pg.query(`INSERT INTO ${db.pg.quote(name)} SELECT i, 'v' || i FROM generate_series(1, 50) AS i`);
    await db.my.query(`CREATE TABLE ${db.my.quote(name)} (id INT PRIMARY KEY, v TEXT)`);
    await db.my.query(`INSERT INTO ${db.my.quote(name)} VALUES (1000, 'stale')`);
    const source = createTableSource(paramsOf(dbs().postgresql), { tables: [{ name }] });
    const sink = createTableSink(paramsOf(dbs().mysql), { truncateTarget: true, createStructure: true });
    const run = await copy(source, sink, 20, 'run_t1');
    expect((await db.my.query(`SELECT id FROM ${db.my.quote(name)}`)).length).toBe(50);
    // A fresh sink (a new Lambda) replaying bundle 1 of the same run must not truncate again.
    const again = createTableSink(paramsOf(dbs().mysql), { truncateTarget: true });
    await again.write(run.bundles[0], { runId: 'run_t1', streamId: 's', solutionId: 's', bundle: 1 });
    expect((await db.my.query(`SELECT id FROM ${db.my.quote(name)}`)).length).toBe(50);
    await again.close!();
    await sink.close!();
    await source.close!();
  });

  it('applies CDC-style deletes and keeps the last change of a key in a bundle', async () => {
    const name = tableName('cdc');
    await db.my.query(`CREATE TABLE ${db.my.quote(name)} (id INT PRIMARY KEY, v TEXT)`);
    const sink = createTableSink(paramsOf(dbs().mysql), {});
    const key = { runId: 'r', streamId: 's', solutionId: 's', bundle: 1 };
    await sink.write(
      [
        { __table: name, __op: 'insert', id: 1, v: 'a' },
        { __table: name, __op: 'insert', id: 2, v: 'b' },
        { __table: name, __op: 'update', id: 1, v: 'a2' },
        { __table: name, __op: 'delete', id: 2 },
        { __table: name, __op: 'insert', id: 3, v: 'c' },
      ],
      key,
    );
    expect(await db.my.query(`SELECT id, v FROM ${db.my.quote(name)} ORDER BY id`)).toEqual([{ id: 1, v: 'a2' }, { id: 3, v: 'c' }]);
    await sink.close!();
  });

  it('refuses an offset whose key does not fit the primary key, rather than skip the table', async () => {
    const name = tableName('keyed');
    await db.pg.query(`CREATE TABLE ${db.pg.quote(name)} (id integer PRIMARY KEY, v text)`);
    await db.pg.query(`INSERT INTO ${db.pg.quote(name)} VALUES (1, 'a'), (2, 'b')`);
    const source = createTableSource(paramsOf(dbs().postgresql), { tables: [{ name }] });
    await expect(source.read({ table: 0, key: [], rows: 0 }, 10)).rejects.toThrow(`the offset's key [] has 0 values, but table ${name}'s primary key has 1 columns (id)`);
    expect((await source.read({ table: 0, key: [1], rows: 1 }, 10)).records.map((r) => r.id)).toEqual([2]);
    await source.close!();
  });

  it('fails with the database message for a table that does not exist', async () => {
    const source = createTableSource(paramsOf(dbs().postgresql), { tables: [{ name: 'no_such_table' }] });
    await expect(source.read(undefined, 10)).rejects.toThrow(/relation "no_such_table" does not exist/);
    await source.close!();
    const mySource = createTableSource(paramsOf(dbs().mysql), { tables: [{ name: 'no_such_table' }] });
    await expect(mySource.read(undefined, 10)).rejects.toThrow(/doesn't exist/);
    await mySource.close!();
  });
});
