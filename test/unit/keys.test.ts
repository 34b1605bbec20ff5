import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { authenticate, createKey } from '#shared/services/keys.ts';

process.env.TABLE_NAME = 'test-table';
const ddbMock = mockClient(DynamoDBDocumentClient);

describe('API keys', () => {
  beforeEach(() => ddbMock.reset());

  it('stores only a hash and authenticates the shown key', async () => {
    ddbMock.on(PutCommand).resolves({});
    const { key, record } = await createKey({ solutionId: 'sol_1', name: 'ci', scopes: ['streams:read'] });
    const stored = ddbMock.commandCalls(PutCommand)[0].args[0].input.Item!;
    expect(JSON.stringify(stored)).not.toContain(key.split('.')[2]);
    expect(stored.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.PK).toBe(`KEY#${record.id}`);

    ddbMock.on(GetCommand, { Key: { PK: `KEY#${record.id}`, SK: 'KEY' } }).resolves({ Item: stored });
    expect(await authenticate(key)).toEqual({ keyId: record.id, solutionId: 'sol_1', scopes: ['streams:read'] });
    const tampered = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
    expect(await authenticate(tampered)).toBeUndefined();
  });

  it('reads keys strongly consistently so a revoked key fails at once', async () => {
    ddbMock.on(GetCommand).resolves({});
    expect(await authenticate('whatever')).toBeUndefined();
    expect(ddbMock.commandCalls(GetCommand)[0].args[0].input.ConsistentRead).toBe(true);
  });
});
