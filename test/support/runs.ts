import { expect } from 'vitest';
import { api, fetchBundle, unique, type ApiResponse } from './api.ts';

/** Helpers for run tests: usage records, packets, polling a run to a status. */
export interface UsageRecord {
  account: string;
  units: number;
  region: string;
}

export function usageRecords(count: number, seed = 1): UsageRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    account: `acct-${String((i * 7 + seed) % 37).padStart(2, '0')}`,
    units: ((i + seed) * 13) % 11, // 0..10; the filter drops the zeros
    region: i % 3 === 0 ? 'eu' : 'us',
  }));
}

/** What filter(units > 0) -> meter(sum units, count per account) must give. */
export function expectedTotals(records: UsageRecord[]): Record<string, { units: number; records: number }> {
  const totals: Record<string, { units: number; records: number }> = {};
  for (const r of records) {
    if (!(r.units > 0)) continue;
    totals[r.account] ??= { units: 0, records: 0 };
    totals[r.account].units += r.units;
    totals[r.account].records += 1;
  }
  return totals;
}

export const usageDefinition = (store: string, options: { mode?: 'batch' | 'continuous'; bundle?: number; limits?: Record<string, number> } = {}) => ({
  mode: options.mode ?? 'batch',
  nodes: [
    { id: 'in', type: 'http-collector', name: 'usage-in', config: { format: 'ndjson' } },
    { id: 'billable', type: 'filter', config: { expression: 'units > 0' } },
    { id: 'meter', type: 'meter', name: 'usage-meter', config: { groupBy: ['account'], aggregates: { units: { fn: 'sum', field: 'units' }, records: { fn: 'count' } } } },
    { id: 'store', type: 'aggregation-store', name: store, config: {} },
  ],
  edges: [
    { from: 'in', to: 'billable' },
    { from: 'billable', to: 'meter' },
    { from: 'meter', to: 'store' },
  ],
  settings: { dataBundleSize: options.bundle ?? 1000, limits: { numberOfEvents: 0, elapsedTime: 0, ...options.limits } },
});

export async function createStream(key: string, definition: unknown, description = '') {
  const res = await api('POST', '/v1/streams', { key, body: { name: unique('run'), description, definition } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string };
}

/** Appends NDJSON packets of `perPacket` lines (plus raw extra lines, e.g. broken JSON) through the batch endpoint. */
export async function appendNdjson(key: string, streamId: string, records: unknown[], perPacket = 100, extraLines: string[] = []) {
  const lines = records.map((r) => JSON.stringify(r));
  // Broken lines go in the middle of the data, one per packet.
  extraLines.forEach((line, i) => lines.splice(Math.floor(((i + 1) * lines.length) / (extraLines.length + 1)), 0, line));
  const packets: { data: string }[] = [];
  for (let i = 0; i < lines.length; i += perPacket) packets.push({ data: Buffer.from(lines.slice(i, i + perPacket).join('\n') + '\n').toString('base64') });
  for (let i = 0; i < packets.length; i += 90) {
    const res = await api('POST', `/v1/streams/${streamId}/packets/batch`, { key, body: { packets: packets.slice(i, i + 90) } });
    expect(res.status, res.text).toBe(201);
  }
  return packets.length;
}

export async function waitForRun(key: string, runId: string, done: (run: any) => boolean, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await api('GET', `/v1/runs/${runId}`, { key });
    expect(res.status, res.text).toBe(200);
    if (done(res.body)) return res.body;
    if (Date.now() > until) throw new Error(`run ${runId} did not get there in ${timeoutMs} ms: ${res.text}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

export const ended = (run: any) => !['running', 'paused'].includes(run.status);

export async function storeTotals(key: string, store: string): Promise<Record<string, { units: number; records: number }>> {
  const totals: Record<string, { units: number; records: number }> = {};
  let cursor: string | null = null;
  do {
    const res: ApiResponse = await api('GET', `/v1/aggregation-stores/${store}/items?limit=20${cursor ? `&cursor=${cursor}` : ''}`, { key });
    expect(res.status, res.text).toBe(200);
    for (const item of res.body.items) totals[item.group.account] = { units: item.values.units, records: item.values.records };
    cursor = res.body.nextCursor;
  } while (cursor);
  return totals;
}

export async function startRun(key: string, streamId: string) {
  const res = await api('POST', `/v1/streams/${streamId}/start`, { key });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** Every record of a stream's packet log (NDJSON packets, e.g. written by a packet-sink), in packet order. */
export async function packetRecords(key: string, streamId: string): Promise<unknown[]> {
  const status = await api('GET', `/v1/streams/${streamId}/status`, { key });
  expect(status.status, status.text).toBe(200);
  if (status.body.packetIndex === 0) return [];
  const data = await api('GET', `/v1/streams/${streamId}/data?start=1&stop=${status.body.packetIndex}`, { key });
  expect(data.status, data.text).toBe(302);
  const packets = await fetchBundle(data.headers.get('location')!);
  return packets.flatMap(([, , bytes]) => Buffer.from(bytes).toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)));
}
