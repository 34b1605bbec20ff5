import { describe, expect, inject, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';
import { ended, usageDefinition, waitForRun } from '../support/runs.ts';

/** The local Scheduler endpoint, read directly: does the stream's schedule exist? */
async function scheduleExists(streamId: string): Promise<boolean> {
  const endpoint = inject('runtimeEnv').AWS_ENDPOINT_URL_SCHEDULER;
  const res = await fetch(`${endpoint}/schedules/sluice-${streamId}?groupName=default`);
  return res.status === 200;
}

async function deployedScheduledStream(key: string) {
  const definition = { ...usageDefinition(unique('usage')), schedule: { cron: '* * * * ? *' } };
  const stream = await api('POST', '/v1/streams', { key, body: { name: unique('scheduled'), definition } });
  expect(stream.status, stream.text).toBe(201);
  expect((await api('POST', `/v1/streams/${stream.body.id}/versions`, { key, body: { tag: 'v1' } })).status).toBe(201);
  const deployed = await api('POST', `/v1/streams/${stream.body.id}/deploy`, { key, body: { version: 'v1' } });
  expect(deployed.status, deployed.text).toBe(200);
  return stream.body.id as string;
}

describe('scheduled runs', () => {
  it('a deployed stream with a one-minute schedule gets a run within the minute; undeploy removes the schedule', async () => {
    const { key } = await newTenant();
    const streamId = await deployedScheduledStream(key);
    expect(await scheduleExists(streamId)).toBe(true);

    let runId: string | undefined;
    const until = Date.now() + 70_000;
    while (!runId && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      runId = (await api('GET', `/v1/streams/${streamId}/runs`, { key })).body.items[0]?.id;
    }
    expect(runId, 'no scheduled run within 70 s').toBeTruthy();
    const run = await waitForRun(key, runId!, ended);
    expect(run).toMatchObject({ trigger: 'schedule', version: 'v1', status: 'finished' });
    expect(run.fireTime).toMatch(/:00\.000Z$/);

    const undeployed = await api('POST', `/v1/streams/${streamId}/undeploy`, { key });
    expect(undeployed.status, undeployed.text).toBe(200);
    expect(await scheduleExists(streamId)).toBe(false);
  }, 120_000);

  it('deleting a deployed stream removes its schedule', async () => {
    const { key } = await newTenant();
    const streamId = await deployedScheduledStream(key);
    expect(await scheduleExists(streamId)).toBe(true);
    expect((await api('DELETE', `/v1/streams/${streamId}`, { key })).status).toBe(204);
    expect(await scheduleExists(streamId)).toBe(false);
  });
});
