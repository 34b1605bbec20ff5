import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Definition } from '../model/definition.ts';
import { streamPurgeTarget } from '../model/purge.ts';
import { ddb, tableName } from './client.ts';
import { recordOf } from './items.ts';
import { conditionalUpdate, type Condition } from './update.ts';
import { cancellationReasons, isConditionFailure } from './errors.ts';
import { purgeTombstonePut } from './purge.ts';
import { queryPage, type Item } from './query.ts';
import type { Page } from './pagination.ts';
import { retryTransactionConflicts } from './retry.ts';
import { slotFree } from './slots.ts';
import { streamDropWrites, type GroupRecord } from './groups.ts';

export interface Deployment {
  phase: 'deployed' | 'undeployed';
  version: string;
  deployedAt: string;
  /** Set when the phase is undeployed. */
  undeployedAt?: string;
}

export interface StreamRecord {
  id: string;
  solutionId: string;
  namespace: string;
  name: string;
  description: string;
  definition: Definition;
  revision: number;
  createdAt: string;
  updatedAt: string;
  deployment: Deployment | null;
  activeRun: { id: string; status: string } | null;
  tagCount: number;
  /** Face-specific attributes (Domo transport, account, ...), kept as sent. */
  faces?: Record<string, unknown>;
  /**
   * Internal, never answered: the connections the version of `deployment`
   * names, claimed by the deploy that wrote it; they count as used by the
   * stream while the phase is `deployed`. Absent on streams deployed before it
   * was recorded.
   */
  deployedConnections?: string[];
}

/** The connections a stream uses through its deployed version: `deployedConnections` while the phase is `deployed`, else none. */
export const deployedConnectionsOf = (stream: StreamRecord): string[] =>
  stream.deployment?.phase === 'deployed' ? (stream.deployedConnections ?? []) : [];

export const streamKey = (id: string) => ({ PK: `STM#${id}`, SK: 'STREAM' });
export const nameClaimKey = (solutionId: string, namespace: string, name: string) => ({
  PK: `SOL#${solutionId}#NAME#${namespace}#${name}`,
  SK: 'CLAIM',
});
export const streamsPartition = (solutionId: string) => `SOL#${solutionId}#STREAMS`;

const STREAM_FIELDS = [
  'id', 'solutionId', 'namespace', 'name', 'description', 'definition', 'revision', 'createdAt',
  'updatedAt', 'deployment', 'activeRun', 'tagCount', 'faces', 'deployedConnections',
] as const;

export function toStreamRecord(item: Item): StreamRecord {
  return recordOf<StreamRecord>(item, STREAM_FIELDS, { deployment: null, activeRun: null, tagCount: 0 });
}

export function streamItem(stream: StreamRecord): Item {
  return { ...streamKey(stream.id), GSI1PK: streamsPartition(stream.solutionId), GSI1SK: stream.id, type: 'stream', ...stream };
}

export type NameTaken = { nameTaken: true };

type InsertOutcome = 'ok' | 'name-taken' | 'refused';

/**
 * Creates the stream and claims its name in one transaction, with `extra`
 * writes that must succeed with it (connection claims): `refused` when one of
 * those failed its condition.
 */
export async function insertStream(stream: StreamRecord, extra: Record<string, unknown>[] = []): Promise<InsertOutcome> {
  try {
    await retryTransactionConflicts(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: tableName(), Item: streamItem(stream), ConditionExpression: 'attribute_not_exists(PK)' } },
            {
              Put: {
                TableName: tableName(),
                Item: { ...nameClaimKey(stream.solutionId, stream.namespace, stream.name), type: 'name-claim', streamId: stream.id },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            ...(extra as any[]),
          ],
        }),
      ),
    );
    return 'ok';
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.[1] === 'ConditionalCheckFailed') return 'name-taken';
    if (reasons?.slice(2).includes('ConditionalCheckFailed')) return 'refused';
    throw error;
  }
}

export async function getStreamRecord(id: string): Promise<StreamRecord | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: streamKey(id), ConsistentRead: true }));
  return result.Item ? toStreamRecord(result.Item) : undefined;
}

export async function streamIdByName(solutionId: string, namespace: string, name: string): Promise<string | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: nameClaimKey(solutionId, namespace, name) }));
  return result.Item?.streamId;
}

export type WriteOutcome = 'ok' | 'stale' | 'name-taken' | 'refused';

/**
 * Replaces a stream's item if it is still at `previous.revision`, moving the
 * name claim in the same transaction when the name or namespace changed, with
 * `extra` writes that must succeed with it (connection claims, as insertStream).
 */
export async function replaceStream(previous: StreamRecord, next: StreamRecord, extra: Record<string, unknown>[] = []): Promise<WriteOutcome> {
  const renamed = previous.name !== next.name || previous.namespace !== next.namespace;
  // Only the editable fields are written: tagCount, deployment and activeRun are
  // owned by their own conditional writes (tagging, deploy, runs) and a whole-item
  // Put here would put back a stale copy of them.
  const editable: Record<string, unknown> = {
    name: next.name,
    namespace: next.namespace,
    description: next.description,
    definition: next.definition,
    revision: next.revision,
    updatedAt: next.updatedAt,
  };
  if (next.faces !== undefined) editable.faces = next.faces;
  const guardedUpdate = { Update: fieldsUpdate(next.id, editable, { expression: 'revision = :revision', values: { ':revision': previous.revision } }) };
  // A rename moves the name claim: items 1 and 2.
  const nameWrites = renamed
    ? [
        {
          Delete: {
            TableName: tableName(),
            Key: nameClaimKey(previous.solutionId, previous.namespace, previous.name),
            ConditionExpression: 'streamId = :id',
            ExpressionAttributeValues: { ':id': previous.id },
          },
        },
        {
          Put: {
            TableName: tableName(),
            Item: { ...nameClaimKey(next.solutionId, next.namespace, next.name), type: 'name-claim', streamId: next.id },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
      ]
    : [];
  try {
    await retryTransactionConflicts(() =>
      ddb.send(new TransactWriteCommand({ TransactItems: [guardedUpdate, ...nameWrites, ...(extra as any[])] })),
    );
    return 'ok';
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.[0] === 'ConditionalCheckFailed') return 'stale';
    if (renamed && reasons?.[2] === 'ConditionalCheckFailed') return 'name-taken';
    if (reasons?.slice(1 + nameWrites.length).includes('ConditionalCheckFailed')) return 'refused';
    throw error;
  }
}

export type DeleteOutcome = 'ok' | 'stale' | 'busy' | 'group-changed';

/**
 * Deletes the stream and its name claim and puts its purge tombstone;
 * refused while a run is active. In the same transaction every group of
 * `groups` (as read; each lists the stream) loses it from its `streams`,
 * conditioned on the group being at the revision read and without an active
 * group run (`group-changed` otherwise: the caller reads again). Its children
 * are purged afterwards, in the background.
 */
export async function removeStream(stream: StreamRecord, groups: GroupRecord[] = []): Promise<DeleteOutcome> {
  try {
    await retryTransactionConflicts(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: tableName(),
                Key: streamKey(stream.id),
                ConditionExpression: `revision = :revision AND ${slotFree('activeRun')}`,
                ExpressionAttributeValues: { ':revision': stream.revision, ':null': null },
              },
            },
            { Delete: { TableName: tableName(), Key: nameClaimKey(stream.solutionId, stream.namespace, stream.name) } },
            ...groups.flatMap((group) => streamDropWrites(group, stream.id, { whileIdle: true })),
            // What the stream leaves behind is removed in the background; the tombstone lists it until then.
            purgeTombstonePut(streamPurgeTarget(stream)),
          ],
        }),
      ),
    );
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.[0] === 'ConditionalCheckFailed') return stream.activeRun ? 'busy' : 'stale';
    if (reasons?.slice(2).includes('ConditionalCheckFailed')) return 'group-changed';
    throw error;
  }
  return 'ok';
}

export async function listStreamRecords(
  solutionId: string,
  limit: number,
  cursor: string | undefined,
  keep: (stream: StreamRecord) => boolean,
): Promise<Page<StreamRecord>> {
  const page = await queryPage({ index: 'GSI1', partition: streamsPartition(solutionId), limit, cursor, keep: (item) => keep(toStreamRecord(item)) });
  return { items: page.items.map(toStreamRecord), nextCursor: page.nextCursor };
}

/** The condition that the stream's deployment is still `previous` (as read). */
export function deploymentUnchanged(previous: Deployment | null): Required<Condition> {
  if (!previous) {
    return { expression: 'attribute_not_exists(#dep) OR #dep = :null', values: { ':null': null }, names: { '#dep': 'deployment' } };
  }
  return {
    expression: '#dep.#phase = :prevPhase AND #dep.#at = :prevAt AND #dep.#ver = :prevVersion',
    values: { ':prevPhase': previous.phase, ':prevAt': previous.deployedAt, ':prevVersion': previous.version },
    names: { '#dep': 'deployment', '#phase': 'phase', '#at': 'deployedAt', '#ver': 'version' },
  };
}

const fieldsUpdate = (id: string, set: Record<string, unknown>, condition?: Condition) => conditionalUpdate(streamKey(id), condition ? [condition] : [], set);

/** Sets fields of a stream item under a condition; false when the condition failed. */
export async function updateStreamFields(id: string, set: Record<string, unknown>, condition?: Condition): Promise<boolean> {
  try {
    await ddb.send(new UpdateCommand(fieldsUpdate(id, set, condition)));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * updateStreamFields in one transaction with `extra` writes that must succeed
 * with it (a deploy's connection claims): `stale` when the stream's condition
 * failed, `refused` when one of the `extra` writes failed its condition.
 */
export async function updateStreamFieldsWith(
  id: string,
  set: Record<string, unknown>,
  condition: Condition,
  extra: Record<string, unknown>[],
): Promise<'ok' | 'stale' | 'refused'> {
  if (extra.length === 0) return (await updateStreamFields(id, set, condition)) ? 'ok' : 'stale';
  try {
    await retryTransactionConflicts(() =>
      ddb.send(new TransactWriteCommand({ TransactItems: [{ Update: fieldsUpdate(id, set, condition) }, ...(extra as any[])] })),
    );
    return 'ok';
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.[0] === 'ConditionalCheckFailed') return 'stale';
    if (reasons?.slice(1).includes('ConditionalCheckFailed')) return 'refused';
    throw error;
  }
}
