import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { decodeCursor, encodeCursor, type Page } from './pagination.ts';
import { MAX_PACKET_INDEX, padIndex, type Actor } from './packets.ts';
import type { Item } from './query.ts';

/** Metadata packets: `PK=STM#{id}#META, SK={packetIndex, 12 digits}`, one per data packet. */
export interface MetadataRecord {
  packetIndex: number;
  content: Record<string, unknown>;
  receivedAt: string;
  updatedAt: string;
  source: Actor;
}

export const metadataPartition = (streamId: string) => `STM#${streamId}#META`;

const toMetadata = (item: Item): MetadataRecord => ({
  packetIndex: Number(item.packetIndex),
  content: item.content,
  receivedAt: item.receivedAt,
  updatedAt: item.updatedAt,
  source: item.source,
});

/** Upsert in one UpdateItem: receivedAt is set once, updatedAt and source every time. */
export async function upsertMetadata(
  streamId: string,
  packetIndex: number,
  content: Record<string, unknown>,
  source: Actor,
): Promise<{ record: MetadataRecord; created: boolean }> {
  const now = new Date().toISOString();
  const result = await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { PK: metadataPartition(streamId), SK: padIndex(packetIndex) },
      UpdateExpression:
        'SET #type = :type, packetIndex = :index, content = :content, updatedAt = :now, #source = :source, receivedAt = if_not_exists(receivedAt, :now), revision = if_not_exists(revision, :zero) + :one',
      ExpressionAttributeNames: { '#type': 'type', '#source': 'source' },
      ExpressionAttributeValues: { ':type': 'metadata', ':index': packetIndex, ':content': content, ':now': now, ':source': source, ':zero': 0, ':one': 1 },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return { record: toMetadata(result.Attributes!), created: Number(result.Attributes!.revision) === 1 };
}

export async function queryMetadata(streamId: string, first: number, last: number, limit: number, cursor?: string): Promise<Page<MetadataRecord>> {
  const partition = metadataPartition(streamId);
  const items: MetadataRecord[] = [];
  let startKey = decodeCursor(cursor, { name: 'PK', value: partition });
  for (;;) {
    const result = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :first AND :last',
        ExpressionAttributeValues: { ':pk': partition, ':first': padIndex(Math.max(first, 0)), ':last': padIndex(Math.min(last, MAX_PACKET_INDEX)) },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
        Limit: limit - items.length,
      }),
    );
    items.push(...(result.Items ?? []).map(toMetadata));
    if (!result.LastEvaluatedKey) return { items, nextCursor: null };
    if (items.length >= limit) {
      const lastItem = items[items.length - 1];
      return { items, nextCursor: lastItem.packetIndex < last ? encodeCursor({ PK: partition, SK: padIndex(lastItem.packetIndex) }) : null };
    }
    startKey = result.LastEvaluatedKey;
  }
}
