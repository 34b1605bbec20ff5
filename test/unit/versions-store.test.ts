import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { insertTag, type TagRecord } from '#shared/store/versions.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);

const tag: TagRecord = {
  streamId: 'stm_01ARZ3NDEKTSV4RRFFQ69G5FAV',
  tag: 'v1',
  revision: 3,
  description: '',
  streamDescription: '',
  definition: { mode: 'batch', nodes: [], edges: [], nodeGroups: [], settings: { dataBundleSize: 500, reportingIntervals: { source: 3, target: 3 }, limits: { numberOfEvents: 0, elapsedTime: 0 } } },
  createdAt: '2026-01-01T00:00:00.000Z',
};

const cancelled = (...codes: string[]) =>
  Object.assign(new Error('Transaction cancelled'), { name: 'TransactionCanceledException', CancellationReasons: codes.map((Code) => ({ Code })) });

describe('insertTag', () => {
  beforeEach(() => {
    ddbMock.reset();
    process.env.TABLE_NAME = 'sluice-test';
  });

  it('writes the tag and the guarded tagCount increment in one transaction', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    expect(await insertTag(tag)).toBe('ok');
    const input = ddbMock.commandCalls(TransactWriteCommand)[0].args[0].input;
    expect(input.TransactItems).toHaveLength(2);
    expect(input.TransactItems![0].Put).toMatchObject({
      Item: { PK: `STM#${tag.streamId}`, SK: 'TAG#v1', type: 'tag', revision: 3 },
      ConditionExpression: 'attribute_not_exists(PK)',
    });
    expect(input.TransactItems![1].Update).toMatchObject({
      Key: { PK: `STM#${tag.streamId}`, SK: 'STREAM' },
      ExpressionAttributeValues: { ':max': 100, ':one': 1, ':zero': 0 },
    });
    expect(input.TransactItems![1].Update!.ConditionExpression).toContain('tagCount < :max');
  });

  it('maps cancellation reasons to outcomes', async () => {
    ddbMock.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    expect(await insertTag(tag)).toBe('duplicate');
    ddbMock.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    expect(await insertTag(tag)).toBe('limit-or-gone');
  });

  it('retries a transaction conflict and succeeds when it clears', async () => {
    ddbMock.on(TransactWriteCommand).rejectsOnce(cancelled('TransactionConflict', 'None')).resolves({});
    expect(await insertTag(tag)).toBe('ok');
    expect(ddbMock.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });
});
