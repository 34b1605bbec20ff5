import { describe, expect, inject, it } from 'vitest';
import { classify, RunConfigurationError } from '#shared/engine/errors.ts';
import { createPgCdcSource, parseChange, slotName, type PgCdcOffset } from '#shared/engine/nodes/pg-cdc.ts';
import { createTableSink } from '#shared/engine/nodes/table-sink.ts';
import type { ConnectionParams } from '#shared/connections/drivers.ts';
import type { TableSpec } from '#shared/engine/nodes/table-source.ts';
import { paramsOf, restrictedAccount, tableName, testDatabases } from '../support/sql-fixtures.ts';

const dbs = () => inject('databases');

describe('PostgreSQL CDC through logical decoding (test_decoding, peek then advance)', () => {
  const db = testDatabases();

  it('parses test_decoding lines with quotes, NULLs and key changes', () => {
    expect(parseChange(`table public.t: INSERT: id[integer]:1 name[text]:'it''s ''x''' n[numeric]:1.50 b[boolean]:true z[text]:null`)).toEqual({
      table: 'public.t', op: 'insert', row: { id: 1, name: "it's 'x'", n: '1.50', b: true, z: null },
    });
    expect(parseChange(`table public.t: UPDATE: old-key: id[integer]:1 new-tuple: id[integer]:2 ts[timestamp with time zone]:'2024-01-01 00:00:00+00'`)).toEqual({
      table: 'public.t', op: 'update', row: { id: 2, ts: '2024-01-01 00:00:00+00' },
    });
    expect(parseChange('table public.t: DELETE: id[integer]:7')).toEqual({ table: 'public.t', op: 'delete', row: { id: 7 } });
  });

  it('replicates inserts, updates and deletes to MySQL; after a stop the changes made meanwhile arrive once; an uncommitted bundle is re-read', async () => {
    const table = tableName('cdc_src');
    await db.pg.query(`CREATE TABLE ${db.pg.quote(table)} (id integer PRIMARY KEY, name text, amount numeric(10,2))`);
    await db.my.query(`CREATE TABLE ${db.my.quote(table)} (id INT PRIMARY KEY, name TEXT, amount DECIMAL(10,2))`);
    const slot = slotName(`stm_${table.toUpperCase()}`, 'src');
    const tables = [{ name: table, operations: ['insert' as const, 'update' as const, 'delete' as const] }];
    const sink = createTableSink(paramsOf(dbs().mysql), {});
    const target = () => db.my.query(`SELECT id, name, amount FROM ${db.my.quote(table)} ORDER BY id`);

    let source = createPgCdcSource(paramsOf(dbs().postgresql), { slot, tables });
    let offset: PgCdcOffset | undefined;
    let bundle = 0;
    const step = async (commit = true) => {
      const batch = await source.read(offset, 500);
      if (batch.records.length) await sink.write(batch.records, { runId: 'r1', streamId: 's', solutionId: 's', bundle: ++bundle });
      if (commit) offset = batch.offset as PgCdcOffset;
      return batch;
    };
    expect((await step()).records).toEqual([]); // creates the slot

    await db.pg.query(`INSERT INTO ${db.pg.quote(table)} VALUES (1, 'één', 1.50), (2, 'two', NULL), (3, 'drei', 3)`);
    await db.pg.query(`UPDATE ${db.pg.quote(table)} SET name = 'ONE', amount = 10 WHERE id = 1`);
    await db.pg.query(`DELETE FROM ${db.pg.quote(table)} WHERE id = 3`);
    const first = await step();
    expect(first.records.map((r) => r.__op)).toEqual(['insert', 'insert', 'insert', 'update', 'delete']);
    expect(await target()).toEqual([{ id: 1, name: 'ONE', amount: '10.00' }, { id: 2, name: 'two', amount: null }]);

    // Stop: the source goes away; changes happen meanwhile; a new run continues from the committed offset.
    await source.close!();
    await db.pg.query(`INSERT INTO ${db.pg.quote(table)} VALUES (4, 'vier', 4)`);
    await db.pg.query(`UPDATE ${db.pg.quote(table)} SET amount = 2 WHERE id = 2`);
    source = createPgCdcSource(paramsOf(dbs().postgresql), { slot, tables });
    // A fault between the target write and the checkpoint: written but not committed...
    const uncommitted = await step(false);
    expect(uncommitted.records.map((r) => [r.__op, r.id])).toEqual([['insert', 4], ['update', 2]]);
    // ...so the next read gets the same changes again; re-applying them changes nothing.
    const again = await step();
    expect(again.records).toEqual(uncommitted.records);
    expect(await target()).toEqual([
      { id: 1, name: 'ONE', amount: '10.00' },
      { id: 2, name: 'two', amount: '2.00' },
      { id: 4, name: 'vier', amount: '4.00' },
    ]);
    // Committed: nothing arrives twice, and the slot has moved up to the offset.
    expect((await step()).records).toEqual([]);
    const [slotRow] = await db.pg.query<{ confirmed: string }>('SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = ?', [slot]);
    expect(slotRow.confirmed).toBe(offset!.lsn);

    await source.dropSlot();
    await source.close!();
    await sink.close!();
  });

  it('keeps a TOASTed value an update leaves out, within one bundle and across bundles', async () => {
    const table = tableName('cdc_toast');
    // EXTERNAL: values over ~2 kB are stored out of line and uncompressed, so an update that does not touch them omits them.
    await db.pg.query(`CREATE TABLE ${db.pg.quote(table)} (id integer PRIMARY KEY, note text, big text)`);
    await db.pg.query(`ALTER TABLE ${db.pg.quote(table)} ALTER COLUMN big SET STORAGE EXTERNAL`);
    await db.my.query(`CREATE TABLE ${db.my.quote(table)} (id INT PRIMARY KEY, note TEXT, big LONGTEXT)`);
    const slot = slotName(`stm_${table.toUpperCase()}`, 'src');
    const source = createPgCdcSource(paramsOf(dbs().postgresql), { slot, tables: [{ name: table }] });
    const sink = createTableSink(paramsOf(dbs().mysql), {});
    let offset: PgCdcOffset | undefined;
    let bundle = 0;
    const step = async () => {
      const batch = await source.read(offset, 500);
      if (batch.records.length) await sink.write(batch.records, { runId: 'r1', streamId: 's', solutionId: 's', bundle: ++bundle });
      offset = batch.offset as PgCdcOffset;
      return batch.records;
    };
    const target = () => db.my.query<{ id: number; note: string; size: number; head: string }>(`SELECT id, note, LENGTH(big) AS size, LEFT(big, 3) AS head FROM ${db.my.quote(table)} ORDER BY id`);
    await step(); // creates the slot
    const t = db.pg.quote(table);

    // Inserted and updated in one bundle: the update's missing column comes from the insert.
    await db.pg.query(`INSERT INTO ${t} VALUES (1, 'a', 'one' || repeat('x', 9997))`);
    await db.pg.query(`UPDATE ${t} SET note = 'b' WHERE id = 1`);
    const first = await step();
    expect(first.map((r) => [r.__op, 'big' in r])).toEqual([['insert', true], ['update', false]]);
    expect(await target()).toEqual([{ id: 1, note: 'b', size: 10000, head: 'one' }]);

    // Across bundles, next to a record that carries the column: each is written with its own columns.
    await db.pg.query(`UPDATE ${t} SET note = 'c' WHERE id = 1`);
    await db.pg.query(`INSERT INTO ${t} VALUES (2, 'n', 'two' || repeat('y', 4997))`);
    const second = await step();
    expect(second.map((r) => [r.__op, 'big' in r])).toEqual([['update', false], ['insert', true]]);
    expect(await target()).toEqual([
      { id: 1, note: 'c', size: 10000, head: 'one' },
      { id: 2, note: 'n', size: 5000, head: 'two' },
    ]);

    await source.dropSlot();
    await source.close!();
    await sink.close!();
  });

  it('fails set-up errors at once with what to fix, before any slot exists; a table without a primary key is read when deletes are not replicated', async () => {
    const q = (name: string) => db.pg.quote(name);
    const ok = tableName('cdc_ok');
    const noKey = tableName('cdc_nokey');
    const noIdentity = tableName('cdc_noident');
    await db.pg.query(`CREATE TABLE ${q(ok)} (id integer PRIMARY KEY)`);
    await db.pg.query(`CREATE TABLE ${q(noKey)} (id integer, name text)`);
    await db.pg.query(`CREATE TABLE ${q(noIdentity)} (id integer PRIMARY KEY)`);
    await db.pg.query(`ALTER TABLE ${q(noIdentity)} REPLICA IDENTITY NOTHING`);
    const role = await restrictedAccount(dbs().postgresql);
    const slotExists = async (slot: string) => (await db.pg.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = ?', [slot])).length > 0;
    const cases: [ConnectionParams, TableSpec[], string][] = [
      [
        paramsOf(dbs().postgresql),
        [{ name: ok }, { name: noKey }, { name: 'no_such_cdc_table' }],
        `table ${noKey} has no primary key, which CDC needs to apply deletes: add one, or replicate only inserts and updates (operations); ` +
          'table no_such_cdc_table does not exist in database sluice',
      ],
      [
        paramsOf(dbs().postgresql),
        [{ name: noIdentity, operations: ['insert', 'delete'] }],
        `table ${noIdentity} has REPLICA IDENTITY NOTHING, so its deletes do not carry the primary key: ALTER TABLE "${noIdentity}" REPLICA IDENTITY DEFAULT`,
      ],
      [
        role.params,
        [{ name: ok }],
        `role "${role.username}" lacks the REPLICATION attribute that CDC from PostgreSQL needs for its replication slot: ` +
          `ALTER ROLE "${role.username}" WITH REPLICATION (on RDS/Aurora: GRANT rds_replication TO "${role.username}")`,
      ],
    ];
    try {
      for (const [params, tables, message] of cases) {
        const slot = slotName(`stm_${tableName('err')}`, 'src');
        const source = createPgCdcSource(params, { slot, tables });
        const error = await source.read(undefined, 10).then(() => undefined, (e: unknown) => e as Error);
        await source.close!();
        expect(error).toBeInstanceOf(RunConfigurationError);
        expect(error?.message).toBe(message);
        expect(classify(error)).toBe(error); // not retried: the run fails with it
        expect(error?.message).not.toContain(role.password);
        expect(await slotExists(slot)).toBe(false);
      }
    } finally {
      await role.drop();
    }

    // The check is as narrow as the need: inserts and updates of a table without a key do replicate.
    const slot = slotName(`stm_${tableName('nokey')}`, 'src');
    const source = createPgCdcSource(paramsOf(dbs().postgresql), { slot, tables: [{ name: noKey, operations: ['insert', 'update'] }] });
    expect((await source.read(undefined, 10)).records).toEqual([]);
    await db.pg.query(`INSERT INTO ${q(noKey)} VALUES (1, 'a')`);
    await db.pg.query(`UPDATE ${q(noKey)} SET name = 'b'`);
    const batch = await source.read(undefined, 10);
    expect(batch.records).toEqual([
      { id: 1, name: 'a', __table: noKey, __op: 'insert' },
      { id: 1, name: 'b', __table: noKey, __op: 'update' },
    ]);
    await source.dropSlot();
    await source.close!();
  });
});
