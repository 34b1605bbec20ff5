import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Scope } from '../model/principal.ts';
import { ddb, tableName } from './client.ts';
import { isConditionFailure } from './errors.ts';
import { queryPage, type Item } from './query.ts';
import type { Page } from './pagination.ts';

export interface ApiKeyRecord {
  id: string;
  name: string;
  solutionId: string;
  scopes: Scope[];
  /** SHA-256 of the secret key, hex. The key itself is never stored. */
  hash: string;
  createdAt: string;
}

const keyKey = (id: string) => ({ PK: `KEY#${id}`, SK: 'KEY' });
const toRecord = (item: Item): ApiKeyRecord => ({
  id: item.id,
  name: item.name,
  solutionId: item.solutionId,
  scopes: item.scopes,
  hash: item.hash,
  createdAt: item.createdAt,
});

export async function putKey(record: ApiKeyRecord): Promise<boolean> {
  try {
    await ddb.send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...keyKey(record.id), GSI1PK: `SOL#${record.solutionId}#KEYS`, GSI1SK: record.id, type: 'key', ...record },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export async function getKey(id: string): Promise<ApiKeyRecord | undefined> {
  // Strongly consistent: a deleted key must stop working at once.
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: keyKey(id), ConsistentRead: true }));
  return result.Item ? toRecord(result.Item) : undefined;
}

export async function listKeys(solutionId: string, limit: number, cursor?: string): Promise<Page<ApiKeyRecord>> {
  const page = await queryPage({ index: 'GSI1', partition: `SOL#${solutionId}#KEYS`, limit, cursor });
  return { items: page.items.map(toRecord), nextCursor: page.nextCursor };
}

/** Deletes the key; false when there was none. */
export async function deleteKey(id: string): Promise<boolean> {
  try {
    await ddb.send(new DeleteCommand({ TableName: tableName(), Key: keyKey(id), ConditionExpression: 'attribute_exists(PK)' }));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
