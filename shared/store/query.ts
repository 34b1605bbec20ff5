import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { allPages, decodeCursor, encodeCursor, type Key, type Page } from './pagination.ts';

export type Item = Record<string, any>;

interface PageQuery {
  /** Query the table itself when omitted. */
  index?: 'GSI1' | 'GSI2';
  partition: string;
  sortBeginsWith?: string;
  limit: number;
  cursor?: string;
  newestFirst?: boolean;
  /** Filters applied after reading; the page is filled up to `limit` all the same. */
  keep?: (item: Item) => boolean;
  /** Strongly consistent reads (table only; GSIs are always eventually consistent). */
  consistent?: boolean;
}

const keyNames = (index?: 'GSI1' | 'GSI2') => (index ? { pk: `${index}PK`, sk: `${index}SK` } : { pk: 'PK', sk: 'SK' });

function keyOf(item: Item, index?: 'GSI1' | 'GSI2'): Key {
  const key: Key = { PK: item.PK, SK: item.SK };
  if (index) {
    key[`${index}PK`] = item[`${index}PK`];
    key[`${index}SK`] = item[`${index}SK`];
  }
  return key;
}

/**
 * One page of a collection. The cursor is the key of the last item returned
 * (not DynamoDB's LastEvaluatedKey), so in-memory filters never skip items.
 */
export async function queryPage(query: PageQuery): Promise<Page<Item>> {
  const { pk, sk } = keyNames(query.index);
  let startKey = decodeCursor(query.cursor, { name: pk, value: query.partition });
  const items: Item[] = [];
  for (;;) {
    const result = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: query.index,
        KeyConditionExpression: query.sortBeginsWith ? '#pk = :pk AND begins_with(#sk, :sk)' : '#pk = :pk',
        ExpressionAttributeNames: query.sortBeginsWith ? { '#pk': pk, '#sk': sk } : { '#pk': pk },
        ExpressionAttributeValues: query.sortBeginsWith ? { ':pk': query.partition, ':sk': query.sortBeginsWith } : { ':pk': query.partition },
        ExclusiveStartKey: startKey,
        ScanIndexForward: !query.newestFirst,
        ConsistentRead: query.consistent && !query.index ? true : undefined,
        Limit: Math.max(query.limit + 1, 25),
      }),
    );
    for (const item of result.Items ?? []) {
      if (query.keep && !query.keep(item)) continue;
      if (items.length === query.limit) {
        return { items, nextCursor: encodeCursor(keyOf(items[items.length - 1], query.index)) };
      }
      items.push(item);
    }
    if (!result.LastEvaluatedKey) return { items, nextCursor: null };
    startKey = result.LastEvaluatedKey;
  }
}

/** Every item of a partition (for small, bounded collections only); `consistent` applies to the table only. */
export function queryAll(partition: string, sortBeginsWith?: string, index?: 'GSI1' | 'GSI2', consistent = false): Promise<Item[]> {
  return allPages((cursor) => queryPage({ index, partition, sortBeginsWith, limit: 500, cursor, consistent }));
}
