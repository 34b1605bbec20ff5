import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { recordOf } from './items.ts';
import { isConditionFailure } from './errors.ts';
import { queryPage, type Item } from './query.ts';
import type { Page } from './pagination.ts';

/**
 * A database or S3 connection: `PK=CONN#{id}, SK=CONNECTION`, listed per
 * solution through GSI1 `SOL#{sol}#CONNECTIONS` (sorted by id, i.e. creation).
 * The password is not here: `secretRef` names its Secrets Manager secret.
 */
export interface ConnectionRecord {
  id: string;
  solutionId: string;
  name: string;
  type: 'postgresql' | 'mysql' | 's3';
  host: string;
  port: number;
  database: string;
  username: string;
  ssl: boolean | { rejectUnauthorized?: boolean; ca?: string };
  options: Record<string, unknown>;
  /** Secrets Manager secret name holding `{password}`; null when no password was given. */
  secretRef: string | null;
  revision: number;
  createdAt: string;
  updatedAt: string;
  /** Face-specific attributes (DBConvert `created` etc.), kept as sent. */
  faces?: Record<string, unknown>;
}

export const connectionKey = (id: string) => ({ PK: `CONN#${id}`, SK: 'CONNECTION' });
export const connectionsPartition = (solutionId: string) => `SOL#${solutionId}#CONNECTIONS`;

const FIELDS = [
  'id', 'solutionId', 'name', 'type', 'host', 'port', 'database', 'username', 'ssl', 'options', 'secretRef',
  'revision', 'createdAt', 'updatedAt', 'faces',
] as const;

export function toConnectionRecord(item: Item): ConnectionRecord {
  return { ...recordOf<ConnectionRecord>(item, FIELDS, { options: {}, secretRef: null }), type: item.connectionType };
}

/** The item's `type` is its kind ('connection') as for every item; the connection's own type is `connectionType`. */
const connectionItem = ({ type, ...connection }: ConnectionRecord): Item => ({
  ...connectionKey(connection.id),
  GSI1PK: connectionsPartition(connection.solutionId),
  GSI1SK: connection.id,
  ...connection,
  type: 'connection',
  connectionType: type,
});

export async function insertConnection(connection: ConnectionRecord): Promise<void> {
  const item = connectionItem(connection);
  await ddb.send(new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' }));
}

export async function getConnectionRecord(id: string): Promise<ConnectionRecord | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: connectionKey(id), ConsistentRead: true }));
  return result.Item ? toConnectionRecord(result.Item) : undefined;
}

/** Replaces the item if it is still at `previousRevision`; false when it changed meanwhile. */
export async function replaceConnection(next: ConnectionRecord, previousRevision: number): Promise<boolean> {
  const item = connectionItem(next);
  try {
    await ddb.send(
      new PutCommand({
        TableName: tableName(),
        Item: item,
        ConditionExpression: 'revision = :revision',
        ExpressionAttributeValues: { ':revision': previousRevision },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export async function removeConnection(id: string, revision: number): Promise<boolean> {
  try {
    await ddb.send(
      new DeleteCommand({
        TableName: tableName(),
        Key: connectionKey(id),
        ConditionExpression: 'revision = :revision',
        ExpressionAttributeValues: { ':revision': revision },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export async function listConnectionRecords(solutionId: string, limit: number, cursor?: string): Promise<Page<ConnectionRecord>> {
  const page = await queryPage({ index: 'GSI1', partition: connectionsPartition(solutionId), limit, cursor });
  return { items: page.items.map(toConnectionRecord), nextCursor: page.nextCursor };
}
