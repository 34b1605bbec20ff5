import { BatchWriteCommand, DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { purgeTargetId, type PurgeTarget } from '../model/purge.ts';
import { ddb, tableName } from './client.ts';
import { queryPage } from './query.ts';
import type { Page } from './pagination.ts';

/** BatchWriteItem takes at most 25 requests. */
const BATCH = 25;
const MAX_UNPROCESSED_ROUNDS = 8;

/**
 * The tombstone of a deleted stream or group: written in the delete's
 * transaction, removed by the purge's last step, so whatever is not purged
 * yet is always listed (`PK = PURGE`, docs/architecture.md "Deleting a stream").
 */
export const purgeTombstoneKey = (id: string) => ({ PK: 'PURGE', SK: id });

/** The tombstone keeps the purge's input (`target`), so a purge that did not start can be started again from it. */
export const purgeTombstonePut = (target: PurgeTarget) => ({
  Put: { TableName: tableName(), Item: { ...purgeTombstoneKey(purgeTargetId(target)), type: 'purge', solutionId: target.solutionId, target, deletedAt: new Date().toISOString() } },
});

export interface PurgeTombstone {
  target: PurgeTarget;
  deletedAt: string;
}

/** One page of the tombstones: the purges not done yet. */
export async function listPurgeTombstones(limit: number, cursor?: string): Promise<Page<PurgeTombstone>> {
  const page = await queryPage({ partition: 'PURGE', limit, cursor });
  return { items: page.items.map((item) => ({ target: item.target as PurgeTarget, deletedAt: String(item.deletedAt) })), nextCursor: page.nextCursor };
}

export async function removePurgeTombstone(id: string): Promise<void> {
  await ddb.send(new DeleteCommand({ TableName: tableName(), Key: purgeTombstoneKey(id) }));
}

/**
 * Deletes up to `max` items of a partition and answers how many it found:
 * 0 means the partition is empty. `lastFirst` reads it in descending
 * sort-key order, so its first item goes last. Deleting is idempotent, so a
 * repeated call (a retried task) only finds what is left.
 */
export async function deletePartitionItems(partition: string, max: number, options: { lastFirst?: boolean } = {}): Promise<number> {
  const result = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :partition',
      ProjectionExpression: '#pk, #sk',
      ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK' },
      ExpressionAttributeValues: { ':partition': partition },
      ScanIndexForward: !options.lastFirst,
      Limit: max,
    }),
  );
  const keys = (result.Items ?? []).map((item) => ({ PK: item.PK, SK: item.SK }));
  for (let i = 0; i < keys.length; i += BATCH) await deleteBatch(keys.slice(i, i + BATCH));
  return keys.length;
}

/** One BatchWriteItem of deletes, resending what DynamoDB leaves unprocessed (throttling) with a growing pause. */
async function deleteBatch(keys: { PK: string; SK: string }[]): Promise<void> {
  let requests = keys.map((Key) => ({ DeleteRequest: { Key } }));
  for (let round = 0; requests.length > 0; round++) {
    if (round === MAX_UNPROCESSED_ROUNDS) throw new Error(`DynamoDB left ${requests.length} deletes unprocessed ${round} times`);
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** round)));
    const result = await ddb.send(new BatchWriteCommand({ RequestItems: { [tableName()]: requests } }));
    requests = (result.UnprocessedItems?.[tableName()] ?? []) as typeof requests;
  }
}
