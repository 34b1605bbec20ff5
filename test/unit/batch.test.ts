import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { batchGetItems } from '#shared/store/batch.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);

describe('batchGetItems', () => {
  beforeEach(() => {
    ddbMock.reset();
    process.env.TABLE_NAME = 'sluice-test';
  });

  it('reads 100 keys a call, consistently, and asks again for the keys DynamoDB left unprocessed', async () => {
    const keys = Array.from({ length: 130 }, (_, i) => ({ PK: `K#${i}`, SK: 'X' }));
    ddbMock.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { PK: string }[] }> }) => {
      const asked = input.RequestItems['sluice-test'].Keys;
      // The first call of each chunk leaves its last key unprocessed; K#7 does not exist.
      const calls = ddbMock.commandCalls(BatchGetCommand).length;
      const unprocessed = calls === 1 || calls === 3 ? asked.slice(-1) : [];
      const answered = asked.slice(0, asked.length - unprocessed.length).filter((key) => key.PK !== 'K#7');
      return { Responses: { 'sluice-test': answered }, UnprocessedKeys: unprocessed.length ? { 'sluice-test': { Keys: unprocessed } } : {} };
    });
    const items = await batchGetItems(keys);
    expect(items.map((item) => item.PK).sort()).toEqual(keys.map((key) => key.PK).filter((pk) => pk !== 'K#7').sort());
    const requests = ddbMock.commandCalls(BatchGetCommand).map((call) => call.args[0].input.RequestItems!['sluice-test']);
    expect(requests.map((request) => request.Keys!.length)).toEqual([100, 1, 30, 1]);
    expect(requests.every((request) => request.ConsistentRead)).toBe(true);
  });
});
