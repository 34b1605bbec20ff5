import { describe, expect, inject, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';
import { appendNdjson, createStream, usageDefinition, usageRecords } from '../support/runs.ts';

/** The local Scheduler endpoint, read directly: does the group's schedule exist? */
async function scheduleOf(groupId: string): Promise<any | undefined> {
  const endpoint = inject('runtimeEnv').AWS_ENDPOINT_URL_SCHEDULER;
  const res = await fetch(`${endpoint}/schedules/sluice-${groupId}?groupName=default`);
  return res.status === 200 ? res.json() : undefined;
}

describe('group schedules', () => {
  it('a group with a one-minute schedule starts on its own (once per fire); PUT and DELETE disarm it', async () => {
    const { key } = await newTenant();
    const stream = await createStream(key, usageDefinition(unique('grp')));
    await appendNdjson(key, stream.id, usageRecords(10));
    const created = await api('POST', '/v1/stream-groups', { key, body: { name: unique('cron'), streams: [stream.id], schedule: { cron: '* * * * ? *' } } });
    expect(created.status, created.text).toBe(201);
    const groupId = created.body.id;
    const schedule = await scheduleOf(groupId);
    expect(schedule).toMatchObject({ ScheduleExpression: 'cron(* * * * ? *)' });
    expect(JSON.parse(schedule.Target.Input)).toMatchObject({ groupId, scheduledTime: '<aws.scheduler.scheduled-time>' });

    let run: any;
    const until = Date.now() + 70_000;
    while (!run && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      run = (await api('GET', `/v1/stream-groups/${groupId}/runs`, { key })).body.items[0];
    }
    expect(run, 'no scheduled group run within 70 s').toBeTruthy();
    expect(run).toMatchObject({ groupId, trigger: 'schedule' });
    expect(run.fireTime).toMatch(/:00\.000Z$/);
    for (let i = 0; i < 100 && !['finished', 'failed'].includes(run.status); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      run = (await api('GET', `/v1/group-runs/${run.id}`, { key })).body;
    }
    expect(run.status).toBe('finished');
    const streamRuns = (await api('GET', `/v1/streams/${stream.id}/runs`, { key })).body.items;
    expect(streamRuns[streamRuns.length - 1]).toMatchObject({ trigger: 'group', groupRunId: run.id });

    // A second delivery of the same fire starts nothing (the group's fire marker): the target, invoked again in-process.
    Object.assign(process.env, inject('runtimeEnv'));
    const { handler } = await import('#functions/events/scheduled-run.ts');
    const redelivered = await handler({ groupId, solutionId: created.body.solutionId, scheduledTime: run.fireTime });
    expect(redelivered.skipped).toContain(`already started group run ${run.id}`);
    expect((await api('GET', `/v1/stream-groups/${groupId}/runs`, { key })).body.items.map((r: any) => r.id)).toContain(run.id);

    const unscheduled = await api('PUT', `/v1/stream-groups/${groupId}`, { key, body: { name: created.body.name, streams: [stream.id], schedule: null } });
    expect(unscheduled.status, unscheduled.text).toBe(200);
    expect(await scheduleOf(groupId)).toBeUndefined();
    const again = await api('PUT', `/v1/stream-groups/${groupId}`, { key, body: { name: created.body.name, streams: [stream.id], schedule: { cron: '0 3 * * ? *' } } });
    expect(again.status).toBe(200);
    expect(await scheduleOf(groupId)).toMatchObject({ ScheduleExpression: 'cron(0 3 * * ? *)' });
    expect((await api('DELETE', `/v1/stream-groups/${groupId}`, { key })).status).toBe(204);
    expect(await scheduleOf(groupId)).toBeUndefined();
  }, 120_000);
});
