import { DescribeExecutionCommand, SendTaskFailureCommand, SendTaskHeartbeatCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, inject, it } from 'vitest';
import { api, newTenant, unique } from '../support/api.ts';
import { createStream, ended, startRun, usageDefinition, waitForRun } from '../support/runs.ts';

/** The local Step Functions endpoint through the real @aws-sdk/client-sfn, as handlers use it. */
function client() {
  const env = inject('runtimeEnv');
  return new SFNClient({ endpoint: env.AWS_ENDPOINT_URL_SFN, region: env.AWS_REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
}
const executionArn = (executionId: string) => `${inject('runtimeEnv').RUN_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${executionId}`;

describe('the local Step Functions endpoint', () => {
  it('refuses task tokens it never issued the way AWS does', async () => {
    const sfn = client();
    await expect(sfn.send(new SendTaskFailureCommand({ taskToken: 'nonsense', error: 'E', cause: 'c' }))).rejects.toMatchObject({ name: 'InvalidToken' });
    await expect(sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'local-token-00000000-0000-0000-0000-000000000000' }))).rejects.toMatchObject({
      name: 'TaskDoesNotExist',
    });
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: executionArn('nope') }))).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });

  it('aborts a parked run with StopExecution; stopping the run then ends it although its execution is gone', async () => {
    const { key } = await newTenant();
    const stream = await createStream(key, usageDefinition(unique('usage'), { mode: 'continuous' }));
    const run = await startRun(key, stream.id);
    expect((await api('POST', `/v1/runs/${run.id}/pause`, { key })).status).toBe(200);
    await waitForRun(key, run.id, (r) => r.status === 'paused');

    const sfn = client();
    const arn = executionArn(run.executionId);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('RUNNING');
    await sfn.send(new StopExecutionCommand({ executionArn: arn, error: 'Test', cause: 'aborted by the test' }));
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('ABORTED');

    expect((await api('POST', `/v1/runs/${run.id}/stop`, { key })).status).toBe(200);
    const stopped = await waitForRun(key, run.id, ended, 10_000);
    expect(stopped.status).toBe('stopped');
    expect((await api('GET', `/v1/streams/${stream.id}`, { key })).body.activeRun).toBeNull();
  });
});
