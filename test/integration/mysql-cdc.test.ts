import { describe, expect, inject, it } from 'vitest';
import { classify, RunConfigurationError } from '#shared/engine/errors.ts';
import { createMysqlCdcSource, type BinlogPosition } from '#shared/engine/nodes/mysql-cdc.ts';
import { createTableSink } from '#shared/engine/nodes/table-sink.ts';
import type { ConnectionParams } from '#shared/connections/drivers.ts';
import type { TableSpec } from '#shared/engine/nodes/table-source.ts';
import { paramsOf, restrictedAccount, tableName, testDatabases } from '../support/sql-fixtures.ts';

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

  it('fails set-up errors at once with the table or the grant to fix: a missing table, no replication privileges, REPLICATION CLIENT without SLAVE', async () => {
    const table = tableName('bl_err');
    await db.my.query(`CREATE TABLE ${db.my.quote(table)} (id INT PRIMARY KEY)`);
    const [status] = await db.my.query<{ File: string; Position: number }>('SHOW MASTER STATUS');
    const current: BinlogPosition = { file: status.File, position: Number(status.Position) };
    const none = await restrictedAccount(dbs().mysql);
    const clientOnly = await restrictedAccount(dbs().mysql, ['REPLICATION CLIENT ON *.*']);
    const lacks = (user: string, missing: string) =>
      new RegExp(`^user ${user} lacks the privileges CDC from MySQL reads the binlog with: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON \\*\\.\\* TO '${user}' \\(the server said: .*${missing}.*\\)$`);
    const claimed: BinlogPosition[] = [];
    const anchor = { claim: async (p: BinlogPosition) => (claimed.push(p), p) };
    const cases: [ConnectionParams, TableSpec[], BinlogPosition | undefined, RegExp | string][] = [
      [paramsOf(dbs().mysql), [{ name: 'no_such_bl_table' }, { name: table }], undefined, 'table sluice.no_such_bl_table does not exist (or user sluice has no privilege on it)'],
      [none.params, [{ name: table }], undefined, lacks(none.username, 'BINLOG MONITOR')], // SHOW MASTER STATUS
      [none.params, [{ name: table }], current, lacks(none.username, 'REPLICATION SLAVE')], // the binlog dump itself
      [clientOnly.params, [{ name: table }], undefined, lacks(clientOnly.username, 'REPLICATION SLAVE')],
    ];
    try {
      for (const [params, tables, offset, message] of cases) {
        const error = await createMysqlCdcSource(params, { tables, anchor }).read(offset, 10).then(() => undefined, (e: unknown) => e as Error);
        expect(error).toBeInstanceOf(RunConfigurationError);
        expect(error?.message).toMatch(message);
        expect(classify(error)).toBe(error); // not retried: the run fails with it
        for (const password of [none.password, clientOnly.password]) expect(error?.message).not.toContain(password);
      }
    } finally {
      await Promise.all([none.drop(), clientOnly.drop()]);
    }
    // Only the account that may read the binlog position anchored one; the missing table failed before anything.
    expect(claimed).toHaveLength(1);
  });

  it('fails a start position whose binlog file the server no longer has with what to do (purged binlogs look the same; none is purged here)', async () => {
    const table = tableName('bl_gone');
    await db.my.query(`CREATE TABLE ${db.my.quote(table)} (id INT PRIMARY KEY)`);
    const anchor = { claim: async (p: BinlogPosition) => p };
    const gone = { file: 'sluice-purged-bin.000001', position: 4 };
    const source = createMysqlCdcSource(paramsOf(dbs().mysql), { tables: [{ name: table }], anchor, ids: { streamId: 'stm_1', nodeId: 'src' } });
    const error = await source.read(gone, 10).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(RunConfigurationError);
    expect(classify(error)).toBe(error);
    expect(error?.message).toMatch(/^the binlog position this stream reads from \(sluice-purged-bin\.000001 at 4\) is gone from the server \(the server said: .*Could not find first log file name/);
    expect(error?.message).toContain('POST /v1/streams/stm_1/offsets/reset {"offsets": {"src": {"file": "<File>", "position": <Position>}}}');
  });
});
