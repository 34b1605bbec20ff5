import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { recordOf } from './items.ts';
import { cancellationReasons } from './errors.ts';
import { purgeTombstonePut } from './purge.ts';
import { queryPage, type Item } from './query.ts';
import type { Page } from './pagination.ts';
import { retryTransactionConflicts } from './retry.ts';
import { slotFree } from './slots.ts';

export interface GroupRecord {
  id: string;
  solutionId: string;
  name: string;
  description: string;
  /** Ordered: the group runs them one after another. */
  streams: string[];
  schedule: { cron: string; timezone?: string } | null;
  revision: number;
  createdAt: string;
  updatedAt: string;
  /** The group run in progress, if any (set and cleared by the group run lifecycle). */
  activeGroupRun: { id: string; status: string } | null;
  /** The newest group run (set with the claim at its start): what resume continues. */
  lastGroupRunId?: string | null;
}

export const groupKey = (id: string) => ({ PK: `GRP#${id}`, SK: 'GROUP' });
/** Membership items live in the stream's partition so stream-side readers (stats, delete) find them. */
export const membershipKey = (streamId: string, groupId: string) => ({ PK: `STM#${streamId}`, SK: `GROUP#${groupId}` });
const groupsPartition = (solutionId: string) => `SOL#${solutionId}#GROUPS`;

const FIELDS = ['id', 'solutionId', 'name', 'description', 'streams', 'schedule', 'revision', 'createdAt', 'updatedAt', 'activeGroupRun', 'lastGroupRunId'] as const;

export function toGroupRecord(item: Item): GroupRecord {
  return recordOf<GroupRecord>(item, FIELDS, { schedule: null, activeGroupRun: null, lastGroupRunId: null, description: '' });
}

const groupItem = (group: GroupRecord): Item => ({
  ...groupKey(group.id),
  GSI1PK: groupsPartition(group.solutionId),
  GSI1SK: group.id,
  type: 'group',
  ...group,
});

/** Membership changes that take a group from `before` to `after` streams (kept ones rewritten when the name changed). */
function membershipWrites(group: GroupRecord, before: string[], after: string[], renamed = false) {
  const added = after.filter((s) => renamed || !before.includes(s));
  const removed = before.filter((s) => !after.includes(s));
  return [
    ...added.map((streamId) => ({
      Put: { TableName: tableName(), Item: { ...membershipKey(streamId, group.id), type: 'group-membership', groupId: group.id, groupName: group.name, solutionId: group.solutionId } },
    })),
    ...removed.map((streamId) => ({ Delete: { TableName: tableName(), Key: membershipKey(streamId, group.id) } })),
  ];
}

export async function insertGroup(group: GroupRecord): Promise<void> {
  await retryTransactionConflicts(() =>
    ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName(), Item: groupItem(group), ConditionExpression: 'attribute_not_exists(PK)' } },
          ...membershipWrites(group, [], group.streams),
        ],
      }),
    ),
  );
}

export async function getGroupRecord(id: string): Promise<GroupRecord | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: groupKey(id), ConsistentRead: true }));
  return result.Item ? toGroupRecord(result.Item) : undefined;
}

export type GroupWriteOutcome = 'ok' | 'stale' | 'running';

/**
 * Replaces a group still at `previous.revision`, moving memberships in the
 * same transaction. An update, not a put: the `activeGroupRun` slot belongs
 * to the group-run lifecycle and is never written from a read copy. Its
 * streams only change while no group run is active.
 */
export async function replaceGroup(previous: GroupRecord, next: GroupRecord): Promise<GroupWriteOutcome> {
  const streamsChange = previous.streams.join() !== next.streams.join();
  try {
    await retryTransactionConflicts(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: tableName(),
                Key: groupKey(next.id),
                UpdateExpression: 'SET #name = :name, description = :description, streams = :streams, schedule = :schedule, revision = :next, updatedAt = :updatedAt',
                ConditionExpression: `revision = :revision${streamsChange ? ` AND ${slotFree('activeGroupRun')}` : ''}`,
                ExpressionAttributeNames: { '#name': 'name' },
                ExpressionAttributeValues: {
                  ':name': next.name,
                  ':description': next.description,
                  ':streams': next.streams,
                  ':schedule': next.schedule,
                  ':next': next.revision,
                  ':updatedAt': next.updatedAt,
                  ':revision': previous.revision,
                  ...(streamsChange ? { ':null': null } : {}),
                },
              },
            },
            ...membershipWrites(next, previous.streams, next.streams, previous.name !== next.name),
          ],
        }),
      ),
    );
    return 'ok';
  } catch (error) {
    if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') {
      if (!streamsChange) return 'stale';
      const current = await getGroupRecord(previous.id);
      return current && current.revision === previous.revision && current.activeGroupRun ? 'running' : 'stale';
    }
    throw error;
  }
}

/** Deletes a group and its memberships, and puts its purge tombstone, unless it changed or is running. */
export async function removeGroup(group: GroupRecord): Promise<GroupWriteOutcome> {
  try {
    await retryTransactionConflicts(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: tableName(),
                Key: groupKey(group.id),
                ConditionExpression: `revision = :revision AND ${slotFree('activeGroupRun')}`,
                ExpressionAttributeValues: { ':revision': group.revision, ':null': null },
              },
            },
            ...membershipWrites(group, group.streams, []),
            // Its group runs are removed in the background; the tombstone lists the group until then.
            purgeTombstonePut({ groupId: group.id, solutionId: group.solutionId }),
          ],
        }),
      ),
    );
    return 'ok';
  } catch (error) {
    if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') return group.activeGroupRun ? 'running' : 'stale';
    throw error;
  }
}

export async function listGroupRecords(solutionId: string, limit: number, cursor?: string): Promise<Page<GroupRecord>> {
  const page = await queryPage({ index: 'GSI1', partition: groupsPartition(solutionId), limit, cursor });
  return { items: page.items.map(toGroupRecord), nextCursor: page.nextCursor };
}
