import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import type { Item } from './query.ts';

type Key = Record<string, unknown>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The items of `keys` that exist, read consistently with BatchGetItem: 100 keys a
 * call, and keys DynamoDB leaves unprocessed (throttling) asked for again after a
 * growing pause (10 ms doubling to 1 s), until every key is answered.
 */
export async function batchGetItems(keys: Key[], projection?: { expression: string; names?: Record<string, string> }): Promise<Item[]> {
  const items: Item[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Key[] = keys.slice(i, i + 100);
    for (let pause = 10; pending.length > 0; pause = Math.min(pause * 2, 1000)) {
      const result = await ddb.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName()]: { Keys: pending, ConsistentRead: true, ProjectionExpression: projection?.expression, ExpressionAttributeNames: projection?.names },
          },
        }),
      );
      items.push(...((result.Responses?.[tableName()] ?? []) as Item[]));
      pending = (result.UnprocessedKeys?.[tableName()]?.Keys as Key[] | undefined) ?? [];
      if (pending.length > 0) await sleep(pause);
    }
  }
  return items;
}
