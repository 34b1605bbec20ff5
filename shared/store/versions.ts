import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Definition } from '../model/definition.ts';
import { ddb, tableName } from './client.ts';
import { cancellationReasons, isTransactionConflict } from './errors.ts';
import type { Item } from './query.ts';
import { retryTransactionConflicts } from './retry.ts';
import { streamKey } from './streams.ts';

/**
 * Tagged versions: immutable items in the stream's own partition,
 * `PK=STM#{streamId}, SK=TAG#{tag}`. The autosaved version is the stream item
 * itself. The stream item's `tagCount` counts the tags; a tag and its count
 * are written in one transaction, so neither can exist without the other.
 */
export const MAX_TAGS = 100;

export interface TagRecord {
  streamId: string;
  tag: string;
  /** The stream revision whose autosaved definition the tag froze. */
  revision: number;
  /** The tag's own note. */
  description: string;
  /** The stream's description when the tag was made (exports carry it). */
  streamDescription: string;
  definition: Definition;
  createdAt: string;
}

export type TagSummary = Omit<TagRecord, 'definition' | 'streamDescription'>;

export const tagKey = (streamId: string, tag: string) => ({ PK: `STM#${streamId}`, SK: `TAG#${tag}` });

const toTag = (item: Item): TagRecord => ({
  streamId: item.streamId,
  tag: item.tag,
  revision: item.revision,
  description: item.description ?? '',
  streamDescription: item.streamDescription ?? '',
  definition: item.definition,
  createdAt: item.createdAt,
});

export type TagOutcome = 'ok' | 'duplicate' | 'limit-or-gone' | 'busy';

/**
 * Puts the tag if the stream has none of that name and counts it on the
 * stream item if the stream still exists and has fewer than MAX_TAGS tags.
 */
export async function insertTag(tag: TagRecord): Promise<TagOutcome> {
  try {
    await retryTransactionConflicts(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: tableName(),
                Item: { ...tagKey(tag.streamId, tag.tag), type: 'tag', ...tag },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Update: {
                TableName: tableName(),
                Key: streamKey(tag.streamId),
                UpdateExpression: 'SET tagCount = if_not_exists(tagCount, :zero) + :one',
                ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(tagCount) OR tagCount < :max)',
                ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':max': MAX_TAGS },
              },
            },
          ],
        }),
      ),
    );
    return 'ok';
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.[0] === 'ConditionalCheckFailed') return 'duplicate';
    if (reasons?.[1] === 'ConditionalCheckFailed') return 'limit-or-gone';
    if (isTransactionConflict(error)) return 'busy';
    throw error;
  }
}

export async function getTag(streamId: string, tag: string): Promise<TagRecord | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: tagKey(streamId, tag), ConsistentRead: true }));
  return result.Item ? toTag(result.Item) : undefined;
}

/** Every tag of a stream without its definition (at most MAX_TAGS, so one short query loop). */
export async function listTagSummaries(streamId: string): Promise<TagSummary[]> {
  const tags: TagSummary[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const result = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :tag)',
        ExpressionAttributeValues: { ':pk': `STM#${streamId}`, ':tag': 'TAG#' },
        ProjectionExpression: '#s, #t, #r, #d, #c',
        ExpressionAttributeNames: { '#s': 'streamId', '#t': 'tag', '#r': 'revision', '#d': 'description', '#c': 'createdAt' },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of result.Items ?? []) {
      tags.push({ streamId: item.streamId, tag: item.tag, revision: item.revision, description: item.description ?? '', createdAt: item.createdAt });
    }
    startKey = result.LastEvaluatedKey;
  } while (startKey);
  return tags;
}
