import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { STALE_PURGE_MS, sweepPurges } from '#shared/services/purge-sweep.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const sfnMock = mockClient(SFNClient);
const machine = 'arn:aws:states:us-east-1:123456789012:stateMachine:Sluice-purge';
const now = Date.parse('2026-11-22T10:30:00.000Z');
const tombstone = (id: string, ageMs: number, target: Record<string, unknown> = { streamId: id, solutionId: 'sol_1', cdcSources: [] }) => ({
  PK: 'PURGE',
  SK: id,
  target,
  deletedAt: new Date(now - ageMs).toISOString(),
});

describe('the purge sweep', () => {
  beforeEach(() => {
    ddbMock.reset();
    sfnMock.reset();
    process.env.TABLE_NAME = 'sluice-test';
    process.env.PURGE_STATE_MACHINE_ARN = machine;
  });

  it('starts again, named after the hour, the purges that are stale and whose first purge is not running', async () => {
    ddbMock.on(QueryCommand).resolves({
      Items: [
        tombstone('stm_fresh', 5 * 60_000),
        tombstone('stm_failed', STALE_PURGE_MS + 1),
        tombstone('stm_slow', 3 * STALE_PURGE_MS),
        tombstone('grp_never', 2 * STALE_PURGE_MS, { groupId: 'grp_never', solutionId: 'sol_1' }),
      ],
    });
    sfnMock.on(DescribeExecutionCommand, { executionArn: `${machine.replace(':stateMachine:', ':execution:')}:purge-stm_failed` }).resolves({ status: 'FAILED' });
    sfnMock.on(DescribeExecutionCommand, { executionArn: `${machine.replace(':stateMachine:', ':execution:')}:purge-stm_slow` }).resolves({ status: 'RUNNING' });
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: `${machine.replace(':stateMachine:', ':execution:')}:purge-grp_never` })
      .rejects(Object.assign(new Error('no'), { name: 'ExecutionDoesNotExist' }));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'x' });

    expect(await sweepPurges(now)).toEqual({ restarted: ['stm_failed', 'grp_never'] });
    const starts = sfnMock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(starts).toEqual([
      { stateMachineArn: machine, name: 'purge-stm_failed-sweep-2026112210', input: JSON.stringify({ streamId: 'stm_failed', solutionId: 'sol_1', cdcSources: [] }) },
      { stateMachineArn: machine, name: 'purge-grp_never-sweep-2026112210', input: JSON.stringify({ groupId: 'grp_never', solutionId: 'sol_1' }) },
    ]);
  });

  it('takes a second sweep in the same hour as the same start', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [tombstone('stm_failed', 2 * STALE_PURGE_MS)] });
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
    sfnMock.on(StartExecutionCommand).rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));
    expect(await sweepPurges(now)).toEqual({ restarted: ['stm_failed'] });
  });
});
