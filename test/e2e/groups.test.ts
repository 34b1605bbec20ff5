import { describe, expect, inject, it } from 'vitest';
import { api, newTenant } from '../support/api.ts';
import { tableReader } from '../support/dynamo.ts';

async function streams(key: string, count: number): Promise<string[]> {
  const ids = [];
  for (let i = 0; i < count; i++) ids.push((await api('POST', '/v1/streams', { key, body: { name: `g-${i}` } })).body.id);
  return ids;
}

describe('stream groups', () => {
  it('creates, reads, lists, replaces and deletes a group, keeping stream order', async () => {
    const { key } = await newTenant();
    const [a, b, c] = await streams(key, 3);
    const created = await api('POST', '/v1/stream-groups', { key, body: { name: 'nightly', streams: [c, a, b] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'nightly', streams: [c, a, b], revision: 1, activeGroupRun: null, schedule: null });
    expect(created.body.id).toMatch(/^grp_/);
    const id = created.body.id;

    expect((await api('GET', `/v1/stream-groups/${id}`, { key })).body.streams).toEqual([c, a, b]);
    expect((await api('GET', '/v1/stream-groups', { key })).body.items.map((g: { id: string }) => g.id)).toEqual([id]);

    const replaced = await api('PUT', `/v1/stream-groups/${id}`, { key, body: { name: 'nightly', streams: [a, b] }, headers: { 'if-match': '"1"' } });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ streams: [a, b], revision: 2 });
    const stale = await api('PUT', `/v1/stream-groups/${id}`, { key, body: { name: 'x', streams: [a] }, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    // A delete with an old If-Match is refused too and deletes nothing; without If-Match it deletes the group as it is now.
    expect((await api('DELETE', `/v1/stream-groups/${id}`, { key, headers: { 'if-match': '"1"' } })).status).toBe(412);
    expect((await api('GET', `/v1/stream-groups/${id}`, { key })).body.revision).toBe(2);

    expect((await api('DELETE', `/v1/stream-groups/${id}`, { key })).status).toBe(204);
    expect((await api('GET', `/v1/stream-groups/${id}`, { key })).status).toBe(404);
  });

  it('keeps membership items in step with the group (a stream may sit in several groups)', async () => {
    const { key } = await newTenant();
    const [a, b] = await streams(key, 2);
    const g1 = (await api('POST', '/v1/stream-groups', { key, body: { name: 'one', streams: [a, b] } })).body.id;
    const g2 = (await api('POST', '/v1/stream-groups', { key, body: { name: 'two', streams: [a] } })).body.id;
    const table = tableReader();
    const membershipsOf = async (stream: string) =>
      (await table.itemsWithPkPrefix(`STM#${stream}`)).filter((i) => i.SK.startsWith('GROUP#')).map((i) => i.groupId).sort();
    expect(await membershipsOf(a)).toEqual([g1, g2].sort());
    expect(await membershipsOf(b)).toEqual([g1]);
    await api('PUT', `/v1/stream-groups/${g1}`, { key, body: { name: 'one', streams: [a] } });
    expect(await membershipsOf(b)).toEqual([]);
    await api('DELETE', `/v1/stream-groups/${g2}`, { key });
    expect(await membershipsOf(a)).toEqual([g1]);
  });

  it('deleting a group\'s last stream leaves it empty: start answers 409 until a PUT gives it streams again', async () => {
    const { key } = await newTenant();
    const [only, next] = await streams(key, 2);
    const id = (await api('POST', '/v1/stream-groups', { key, body: { name: 'lonely', streams: [only] } })).body.id;
    expect((await api('DELETE', `/v1/streams/${only}`, { key })).status).toBe(204);
    const emptied = await api('GET', `/v1/stream-groups/${id}`, { key });
    expect(emptied.body).toMatchObject({ streams: [], revision: 2 });
    expect(emptied.headers.get('etag')).toBe('"2"');
    const start = await api('POST', `/v1/stream-groups/${id}/start`, { key });
    expect(start.status).toBe(409);
    expect(start.body.error.message).toContain('has no streams');
    expect((await api('GET', `/v1/stream-groups/${id}/runs`, { key })).body.items).toEqual([]);
    // Its schedule's fire (the Scheduler target, invoked in-process) is skipped the same way.
    Object.assign(process.env, inject('runtimeEnv'));
    const { handler } = await import('#functions/events/scheduled-run.ts');
    const fired = await handler({ groupId: id, solutionId: emptied.body.solutionId, scheduledTime: '2026-01-01T00:00:00.000Z' });
    expect(fired.skipped).toContain('has no streams');
    expect((await api('GET', `/v1/stream-groups/${id}/runs`, { key })).body.items).toEqual([]);
    // A PUT still needs at least one stream.
    expect((await api('PUT', `/v1/stream-groups/${id}`, { key, body: { name: 'lonely', streams: [] } })).status).toBe(400);
    const refilled = await api('PUT', `/v1/stream-groups/${id}`, { key, body: { name: 'lonely', streams: [next] }, headers: { 'if-match': '"2"' } });
    expect(refilled.status, refilled.text).toBe(200);
    expect(refilled.body).toMatchObject({ streams: [next], revision: 3 });
  });

  it('refuses unknown, foreign or duplicate streams and bad schedules with 400', async () => {
    const { key } = await newTenant();
    const other = await newTenant();
    const [a] = await streams(key, 1);
    const [foreign] = await streams(other.key, 1);
    const unknown = await api('POST', '/v1/stream-groups', { key, body: { name: 'g', streams: [a, 'stm_01ARZ3NDEKTSV4RRFFQ69G5FAV'] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ path: 'streams[1]', message: 'no stream stm_01ARZ3NDEKTSV4RRFFQ69G5FAV' }]);
    expect((await api('POST', '/v1/stream-groups', { key, body: { name: 'g', streams: [foreign] } })).status).toBe(400);
    expect((await api('POST', '/v1/stream-groups', { key, body: { name: 'g', streams: [a, a] } })).status).toBe(400);
    expect((await api('POST', '/v1/stream-groups', { key, body: { name: 'g', streams: [] } })).status).toBe(400);
    const badCron = await api('POST', '/v1/stream-groups', { key, body: { name: 'g', streams: [a], schedule: { cron: 'daily' } } });
    expect(badCron.status).toBe(400);
    expect(badCron.body.error.details[0].path).toBe('schedule.cron');
    expect((await api('GET', '/v1/stream-groups', { key })).body.items).toEqual([]);
  });

  it('hides another solution\'s group behind 404', async () => {
    const owner = await newTenant();
    const other = await newTenant();
    const [a] = await streams(owner.key, 1);
    const id = (await api('POST', '/v1/stream-groups', { key: owner.key, body: { name: 'g', streams: [a] } })).body.id;
    expect((await api('GET', `/v1/stream-groups/${id}`, { key: other.key })).status).toBe(404);
    expect((await api('DELETE', `/v1/stream-groups/${id}`, { key: other.key })).status).toBe(404);
    expect((await api('GET', `/v1/stream-groups/${id}`, { key: owner.key })).status).toBe(200);
  });
});
