import { benchClient, type BenchContext } from './client.ts';

/**
 * Runs: records per second through a batch run (packets -> map -> dataset),
 * started over HTTP and timed from start to `finished`, against a plain Node
 * loop in this process doing the same reads (readPackets), the same transform
 * (the same JSONata expression per record) and the same writes (commitRows per
 * bundle of the same size) against the same local services. The ratio is what
 * the engine's bookkeeping (Step Functions loop, checkpoints, stats, the
 * exactly-once commit) costs over the bare work.
 */

const RECORDS = Number(process.env.BENCH_RUN_RECORDS ?? 20_000);
const PER_PACKET = 100;
const BUNDLE = Number(process.env.BENCH_RUN_BUNDLE ?? 5_000);
const EXPRESSION = '{"account": account, "units": units * 2, "region": region}';

const definition = {
  mode: 'batch',
  nodes: [
    { id: 'in', type: 'http-collector', config: { format: 'ndjson' } },
    { id: 'map', type: 'map', config: { expression: EXPRESSION } },
    { id: 'ds', type: 'dataset', config: { updateMethod: 'APPEND' } },
  ],
  edges: [
    { from: 'in', to: 'map' },
    { from: 'map', to: 'ds' },
  ],
  settings: { dataBundleSize: BUNDLE },
};

export default async function runsBench(ctx: BenchContext) {
  Object.assign(process.env, ctx.env);
  const client = benchClient(ctx);
  const call = async (method: string, path: string, body?: unknown) => (await client.call(ctx.adminKey, method, path, { body })).body;
  const suffix = Date.now().toString(36);
  const engineStream = await call('POST', '/v1/streams', { name: `bench-run-${suffix}`, definition });
  const loopStream = await call('POST', '/v1/streams', { name: `bench-loop-${suffix}`, definition });

  // The same packets for both: RECORDS NDJSON usage records, PER_PACKET per packet.
  const packets: { data: string }[] = [];
  for (let p = 0; p < RECORDS / PER_PACKET; p++) {
    const lines: string[] = [];
    for (let i = 0; i < PER_PACKET; i++) {
      const n = p * PER_PACKET + i;
      lines.push(JSON.stringify({ account: `acct-${n % 37}`, units: n % 11, region: n % 3 ? 'us' : 'eu' }));
    }
    packets.push({ data: Buffer.from(lines.join('\n') + '\n').toString('base64') });
  }
  for (let i = 0; i < packets.length; i += 90) await call('POST', `/v1/streams/${engineStream.id}/packets/batch`, { packets: packets.slice(i, i + 90) });

  // 1. The engine: a batch run through Step Functions.
  const started = Date.now();
  const run = await call('POST', `/v1/streams/${engineStream.id}/start`);
  let finished;
  for (;;) {
    finished = await call('GET', `/v1/runs/${run.id}`);
    if (finished.status !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const engineMs = Date.now() - started;
  if (finished.status !== 'finished' || finished.stats.totals.in !== RECORDS) throw new Error(`bench run ended ${finished.status} after ${finished.stats.totals.in} records`);

  // 2. A plain loop over the same services: read packets, map each record with the same JSONata, commit rows per bundle.
  const { readPackets } = await import('#shared/services/packets.ts');
  const { commitRows } = await import('#shared/services/dataset-engine.ts');
  const { default: jsonata } = await import('jsonata');
  const map = jsonata(EXPRESSION);
  const loopStarted = Date.now();
  let after = 0;
  let bundle = 0;
  let pending: Record<string, unknown>[] = [];
  for (;;) {
    const read = await readPackets(engineStream.id, after, 100);
    for (const packet of read) {
      for (const line of packet.bytes.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        pending.push((await map.evaluate(JSON.parse(line))) as Record<string, unknown>);
        if (pending.length === BUNDLE) {
          await commitRows(loopStream.id, pending, { method: 'APPEND', token: `bench-loop/${++bundle}` });
          pending = [];
        }
      }
      after = packet.index;
    }
    if (read.length < 100) break;
  }
  if (pending.length) await commitRows(loopStream.id, pending, { method: 'APPEND', token: `bench-loop/${++bundle}` });
  const loopMs = Date.now() - loopStarted;

  const engineRate = RECORDS / (engineMs / 1000);
  const loopRate = RECORDS / (loopMs / 1000);
  return {
    name: `runs: ${RECORDS} records packets -> map -> dataset, bundles of ${BUNDLE}`,
    rows: [
      { metric: 'batch run (Step Functions engine)', value: Math.round(engineRate), unit: 'records/s' },
      { metric: 'plain Node loop, same reads/transform/writes', value: Math.round(loopRate), unit: 'records/s' },
      { metric: 'engine / loop', value: Math.round((engineRate / loopRate) * 100) / 100, unit: 'ratio' },
      { metric: 'batch run wall time', value: engineMs, unit: 'ms' },
    ],
  };
}
