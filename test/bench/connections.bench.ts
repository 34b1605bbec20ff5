/**
 * Connections benchmark: rows per second of a PostgreSQL → PostgreSQL copy
 *   - as a Sluice convert run (DBConvert stream-config started over HTTP on the
 *     local runtime: Step Functions loop, bundles, checkpoints, upserts),
 *   - through the table-source/table-sink nodes driven directly (no engine),
 *   - and the same copy done with PostgreSQL's COPY out + COPY in from one process
 * on the same real server, with the ratios. Rows: BENCH_CONNECTION_ROWS (default 200,000).
 */
import pg from 'pg';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { startDatabases } from '../support/databases.ts';
import { createPgItems } from '../support/sql-fixtures.ts';
import { createTableSource } from '#shared/engine/nodes/table-source.ts';
import { createTableSink } from '#shared/engine/nodes/table-sink.ts';
import { openSession } from '#shared/engine/nodes/sql.ts';
import { benchClient, type BenchContext } from './client.ts';

const ROWS = Number(process.env.BENCH_CONNECTION_ROWS ?? 200_000);
const BUNDLE = 5000;

export default async function connectionsBench(ctx: BenchContext) {
  const dbs = await startDatabases();
  try {
    const p = dbs.postgresql;
    const admin = new pg.Client({ host: p.host, port: p.port, user: p.adminUsername, password: p.adminPassword, database: 'postgres' });
    await admin.connect();
    await admin.query('CREATE DATABASE sluice_bench OWNER sluice');
    await admin.end();
    const sourceParams = { type: 'postgresql' as const, host: p.host, port: p.port, database: p.database, username: p.username, password: p.password };
    const targetParams = { ...sourceParams, database: 'sluice_bench' };
    const src = await openSession(sourceParams);
    await createPgItems(src, 'bench_items', ROWS);
    await src.query('ANALYZE bench_items');
    await src.query('CREATE TABLE bench_copy (LIKE bench_items INCLUDING ALL)');
    await src.close();

    // 1. COPY out + COPY in from one process.
    const out = new pg.Client({ ...sourceParams, user: p.username });
    const into = new pg.Client({ ...sourceParams, user: p.username });
    await Promise.all([out.connect(), into.connect()]);
    let started = performance.now();
    await pipeline(out.query(copyTo('COPY bench_items TO STDOUT')), into.query(copyFrom('COPY bench_copy FROM STDIN')));
    const copySeconds = (performance.now() - started) / 1000;
    await Promise.all([out.end(), into.end()]);

    // 2. The nodes driven directly, bundle by bundle.
    const source = createTableSource(sourceParams, { tables: [{ name: 'bench_items' }] });
    const sink = createTableSink(targetParams, { table: 'bench_nodes', createStructure: true }, { describeSource: source.describe });
    started = performance.now();
    let offset: Record<string, unknown> | undefined;
    let nodeRows = 0;
    for (let bundle = 1; ; bundle++) {
      const batch = await source.read(offset, BUNDLE);
      if (batch.records.length) await sink.write(batch.records, { runId: 'run_bench', streamId: 'stm_bench', solutionId: 'sol_bench', bundle });
      nodeRows += batch.records.length;
      offset = batch.offset;
      if (batch.exhausted) break;
    }
    const nodeSeconds = (performance.now() - started) / 1000;
    await source.close?.();
    await sink.close?.();

    // 3. A convert run through the API and the engine.
    const { call, solutionKey } = benchClient(ctx);
    const key = await solutionKey(`bench-${Date.now()}`, ['streams:read', 'streams:write', 'runs:write']);
    const conn = async (database: string) =>
      (await call(key, 'POST', '/api/v1/connections', { body: { name: database, type: 'postgresql', host: p.host, port: p.port, username: p.username, password: p.password, database } })).body.id;
    const config = (
      await call(key, 'POST', '/api/v1/stream-configs', {
        body: {
          name: `bench-${Date.now()}`, source: await conn(p.database), target: await conn('sluice_bench'), mode: 'convert',
          dataBundleSize: BUNDLE, tables: [{ name: 'bench_items' }], createStructure: true, truncateTarget: true,
        },
      })
    ).body;
    started = performance.now();
    const run = (await call(key, 'POST', `/api/v1/streams/${config.id}/start`)).body;
    let stats: any;
    for (;;) {
      stats = (await call(key, 'GET', `/api/v1/streams/${run.id}/stats`)).body;
      if (!['RUNNING', 'PAUSED'].includes(stats.source.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const runSeconds = (performance.now() - started) / 1000;
    if (stats.source.status !== 'FINISHED' || stats.target.counter !== ROWS) throw new Error(`the convert run ended ${JSON.stringify(stats)}`);

    const rate = (rows: number, seconds: number) => Math.round(rows / seconds);
    return {
      name: 'connections',
      rows: [
        { metric: `PostgreSQL → PostgreSQL COPY out + COPY in (${ROWS} rows, one process)`, value: rate(ROWS, copySeconds), unit: 'rows/s' },
        { metric: `table-source → table-sink driven directly (bundles of ${BUNDLE})`, value: rate(nodeRows, nodeSeconds), unit: 'rows/s' },
        { metric: `Sluice convert run via DBConvert start (bundles of ${BUNDLE})`, value: rate(ROWS, runSeconds), unit: 'rows/s' },
        { metric: 'convert run / COPY', value: Math.round((copySeconds / runSeconds) * 1000) / 1000, unit: 'ratio' },
        { metric: 'nodes directly / COPY', value: Math.round((copySeconds / nodeSeconds) * 1000) / 1000, unit: 'ratio' },
      ],
    };
  } finally {
    await dbs.stop();
  }
}
