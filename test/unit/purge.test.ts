import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deletePartitionItems } from '#shared/store/purge.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const keys = (n: number) => Array.from({ length: n }, (_, i) => ({ PK: 'STM#stm_1#PKT', SK: String(i).padStart(12, '0') }));

describe('purging a partition', () => {
  beforeEach(() => {
    ddbMock.reset();
    process.env.TABLE_NAME = 'sluice-test';
  });

  it('deletes what one page finds in batches of 25, resending what DynamoDB left unprocessed', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: keys(30), Count: 30 });
    const leftOver = { 'sluice-test': [{ DeleteRequest: { Key: keys(30)[3] } }] };
    ddbMock.on(BatchWriteCommand).resolvesOnce({ UnprocessedItems: leftOver }).resolves({});
    expect(await deletePartitionItems('STM#stm_1#PKT', 500)).toBe(30);
    const query = ddbMock.commandCalls(QueryCommand)[0].args[0].input;
    expect(query).toMatchObject({ Limit: 500, ExpressionAttributeValues: { ':partition': 'STM#stm_1#PKT' }, ProjectionExpression: '#pk, #sk' });
    const batches = ddbMock.commandCalls(BatchWriteCommand).map((call) => call.args[0].input.RequestItems!['sluice-test']);
    expect(batches.map((batch) => batch.length)).toEqual([25, 1, 5]);
    expect(batches[1]).toEqual(leftOver['sluice-test']);
  });

  it('reads last-first when asked, so the item that lists a partition is deleted after the rest', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [], Count: 0 });
    await deletePartitionItems('GRUN#grun_1', 500, { lastFirst: true });
    expect(ddbMock.commandCalls(QueryCommand)[0].args[0].input.ScanIndexForward).toBe(false);
  });

  it('answers 0 for an empty partition and writes nothing', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [], Count: 0 });
    expect(await deletePartitionItems('STM#stm_1#SES', 500)).toBe(0);
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('gives up (so the state machine retries the pass) when DynamoDB keeps refusing', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: keys(1), Count: 1 });
    ddbMock.on(BatchWriteCommand).resolves({ UnprocessedItems: { 'sluice-test': [{ DeleteRequest: { Key: keys(1)[0] } }] } });
    await expect(deletePartitionItems('STM#stm_1#PKT', 500)).rejects.toThrow('left 1 deletes unprocessed 8 times');
  }, 20_000);
});
