import { describe, expect, inject, it } from 'vitest';
import { createMysqlCdcSource, type BinlogPosition } from '#shared/engine/nodes/mysql-cdc.ts';
import { createTableSink } from '#shared/engine/nodes/table-sink.ts';
import { paramsOf, tableName, testDatabases } from '../support/sql-fixtures.ts';

const dbs = () => inject('databases');

describe('MySQL (MariaDB) CDC through the binlog (@vlasky/zongji, bounded non-blocking reads)', () => {
  const db = testDatabases();

  it('replicates inserts, updates and deletes to PostgreSQL; changes made while stopped arrive once; an uncommitted bundle is re-read', async () => {
    const table = tableName('bl_src');
    const other = tableName('bl_other');
    await db.my.query(`CREATE TABLE ${db.my.quote(table)} (id INT PRIMARY KEY, name TEXT, amount DECIMAL(10,2), raw BLOB)`);
    await db.my.query(`CREATE TABLE ${db.my.quote(other)} (id INT PRIMARY KEY)`);
    await db.pg.query(`CREATE TABLE ${db.pg.quote(table)} (id integer PRIMARY KEY, name text, amount numeric(10,2), raw bytea)`);
    let anchored: BinlogPosition | undefined;
    const anchor = { claim: async (p: BinlogPosition) => (anchored ??= p) };
    const tables = [{ name: table }];
    const sink = createTableSink(paramsOf(dbs().postgresql), {});
    const target = () => db.pg.query(`SELECT id, name, amount, encode(raw, 'hex') AS raw FROM ${db.pg.quote(table)} ORDER BY id`);
    let offset: BinlogPosition | undefined;
    let bundle = 0;
    const step = async (commit = true) => {
      const source = createMysqlCdcSource(paramsOf(dbs().mysql), { tables, anchor });
      const batch = await source.read(offset, 500);
      if (batch.records.length) await sink.write(batch.records, { runId: 'r1', streamId: 's', solutionId: 's', bundle: ++bundle });
      if (commit) offset = batch.offset as BinlogPosition;
      return batch;
    };

    // The first read anchors the start position; nothing before it is read.
    await db.my.query(`INSERT INTO ${db.my.quote(table)} VALUES (99, 'before', 0, NULL)`);
    expect((await step(false)).records).toEqual([]);
    expect(anchored).toBeDefined();
    // Changes between the anchor and the first committed bundle are not lost.
    await db.my.query(`INSERT INTO ${db.my.quote(table)} VALUES (1, 'één 😀', 1.50, x'00ff'), (2, 'two', NULL, NULL), (3, 'drei', 3, NULL)`);
    await db.my.query(`INSERT INTO ${db.my.quote(other)} VALUES (1)`);
    await db.my.query(`UPDATE ${db.my.quote(table)} SET name = 'ONE', amount = 10 WHERE id = 1`);
    await db.my.query(`DELETE FROM ${db.my.quote(table)} WHERE id IN (2, 99)`);
    const first = await step();
    expect(first.records.map((r) => [r.__op, r.id])).toEqual([['insert', 1], ['insert', 2], ['insert', 3], ['update', 1], ['delete', 2], ['delete', 99]]);
    expect(await target()).toEqual([{ id: 1, name: 'ONE', amount: '10.00', raw: '00ff' }, { id: 3, name: 'drei', amount: '3.00', raw: null }]);

    await db.my.query(`INSERT INTO ${db.my.quote(table)} VALUES (4, 'vier', 4, NULL)`);
    await db.my.query(`UPDATE ${db.my.quote(table)} SET amount = 2 WHERE id = 3`);
    const uncommitted = await step(false);
    expect(uncommitted.records.map((r) => [r.__op, r.id])).toEqual([['insert', 4], ['update', 3]]);
    const again = await step();
    expect(again.records).toEqual(uncommitted.records);
    expect((await step()).records).toEqual([]);
    expect(await target()).toEqual([
      { id: 1, name: 'ONE', amount: '10.00', raw: '00ff' },
      { id: 3, name: 'drei', amount: '2.00', raw: null },
      { id: 4, name: 'vier', amount: '4.00', raw: null },
    ]);
    await sink.close!();
  });
});
