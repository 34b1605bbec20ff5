import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Definition } from '../model/definition.ts';
import { GROUP_RUN_TRANSITIONS, groupRunCondition, type GroupRunStatus, type GroupRunTransition } from '../model/group-run-lifecycle.ts';
import { ddb, tableName } from './client.ts';
import { recordOf } from './items.ts';
import { conditionalUpdate, setExpression, type Condition } from './update.ts';
import { cancellationReasons } from './errors.ts';
import { groupKey, toGroupRecord, type GroupRecord } from './groups.ts';
import { queryPage, type Item } from './query.ts';
import type { Page } from './pagination.ts';
import { retryTransactionConflicts } from './retry.ts';
import { slotClaim, slotFree, slotMirror, writeTransition } from './slots.ts';

/**
 * Group runs (docs/groups.md):
 * - `PK=GRUN#{id}, SK=GRUN`, listed per group on GSI1 (`GRP#{groupId}#RUNS` / id, newest first);
 * - `PK=GRUN#{id}, SK=PIN#{position}`: the stream version pinned by Prepare for that position
 *   (with its definition, so a big definition never bloats the group-run item);
 * - `PK=GRUN#{id}, SK=START#{attempt}#{position}`: the start marker — at most one stream run per
 *   (execution attempt, position), written in the run's insert transaction;
 * - `PK=GRP#{groupId}, SK=FIRE#{fireTime}`: a schedule fire marker (TTL 7 days).
 */
export interface GroupRunError {
  code: string;
  message: string;
  streamId?: string;
  runId?: string;
  position?: number;
  details?: { path: string; message: string }[];
}

export interface GroupRunCheckpoint {
  /** The first stream that did not finish (index into `streams`). */
  position: number;
  completedStreams: string[];
  savedAt: string;
}

export interface GroupRunRecord {
  id: string;
  groupId: string;
  solutionId: string;
  trigger: 'api' | 'schedule';
  fireTime?: string;
  status: GroupRunStatus;
  /** The group's streams when the run started, in order (a later change of the group does not move a run). */
  streams: string[];
  /** Index of the stream running (or next to run). */
  position: number;
  completedStreams: string[];
  currentRunId: string | null;
  /** The last run started per position (`"0"`, `"1"`, ...). */
  streamRuns: Record<string, string>;
  /** Versions pinned by the last Prepare, per position. */
  versions: Record<string, string>;
  checkpoint: GroupRunCheckpoint | null;
  /** Execution attempt: 1 for the start, +1 per resume. Workflow steps carry it and act only on their own attempt. */
  attempt: number;
  executionArn: string | null;
  startedAt: string;
  endedAt: string | null;
  updatedAt: string;
  error: GroupRunError | null;
}

export interface PinnedStream {
  position: number;
  streamId: string;
  version: string;
  definition: Definition;
}

export const groupRunKey = (id: string) => ({ PK: `GRUN#${id}`, SK: 'GRUN' });
const pinKey = (id: string, position: number) => ({ PK: `GRUN#${id}`, SK: `PIN#${String(position).padStart(3, '0')}` });
export const startMarkerKey = (id: string, attempt: number, position: number) => ({ PK: `GRUN#${id}`, SK: `START#${attempt}#${position}` });
export const groupRunsPartition = (groupId: string) => `GRP#${groupId}#RUNS`;

const FIELDS = [
  'id', 'groupId', 'solutionId', 'trigger', 'fireTime', 'status', 'streams', 'position', 'completedStreams', 'currentRunId', 'streamRuns',
  'versions', 'checkpoint', 'attempt', 'executionArn', 'startedAt', 'endedAt', 'updatedAt', 'error',
] as const;

export function toGroupRunRecord(item: Item): GroupRunRecord {
  return recordOf<GroupRunRecord>(item, FIELDS, {
    currentRunId: null,
    checkpoint: null,
    executionArn: null,
    endedAt: null,
    error: null,
    streamRuns: {},
    versions: {},
  });
}

const FIRE_MARKER_TTL_SECONDS = 7 * 24 * 3600;

/** busy and stale carry the group as read (consistently) right after the failed claim. */
export type GroupRunInsertOutcome = { outcome: 'ok' | 'gone' | 'fired' } | { outcome: 'busy' | 'stale'; group: GroupRecord };

/**
 * Creates the group run and claims the group's `activeGroupRun` slot in one
 * transaction (so of two racing starts exactly one wins); with a fire time,
 * the fire marker too (a second delivery of the same fire starts nothing).
 */
export async function insertGroupRun(run: GroupRunRecord, groupRevision: number): Promise<GroupRunInsertOutcome> {
  const items: Record<string, unknown>[] = [
    { Put: { TableName: tableName(), Item: { ...groupRunKey(run.id), GSI1PK: groupRunsPartition(run.groupId), GSI1SK: run.id, type: 'group-run', ...run }, ConditionExpression: 'attribute_not_exists(PK)' } },
    {
      Update: {
        TableName: tableName(),
        Key: groupKey(run.groupId),
        UpdateExpression: 'SET activeGroupRun = :slot, lastGroupRunId = :id',
        // At the revision the run's streams were copied from: a concurrent PUT makes the start read the group again.
        ConditionExpression: `attribute_exists(PK) AND ${slotFree('activeGroupRun')} AND revision = :revision`,
        ExpressionAttributeValues: { ':slot': { id: run.id, status: run.status }, ':null': null, ':id': run.id, ':revision': groupRevision },
      },
    },
  ];
  if (run.fireTime) {
    items.push({
      Put: {
        TableName: tableName(),
        Item: { PK: `GRP#${run.groupId}`, SK: `FIRE#${run.fireTime}`, type: 'group-schedule-fire', groupRunId: run.id, expiresAt: Math.floor(Date.now() / 1000) + FIRE_MARKER_TTL_SECONDS },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    });
  }
  try {
    await retryTransactionConflicts(() => ddb.send(new TransactWriteCommand({ TransactItems: items as any })));
    return { outcome: 'ok' };
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.[2] === 'ConditionalCheckFailed') return { outcome: 'fired' };
    if (reasons?.[1] === 'ConditionalCheckFailed') {
      const item = (await ddb.send(new GetCommand({ TableName: tableName(), Key: groupKey(run.groupId), ConsistentRead: true }))).Item;
      if (!item) return { outcome: 'gone' };
      const group = toGroupRecord(item);
      return { outcome: group.activeGroupRun ? 'busy' : 'stale', group };
    }
    throw error;
  }
}

export async function getGroupRunRecord(id: string): Promise<GroupRunRecord | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: groupRunKey(id), ConsistentRead: true }));
  return result.Item ? toGroupRunRecord(result.Item) : undefined;
}

/** The group run a schedule fire started, if that fire already started one. */
export async function groupRunOfFire(groupId: string, fireTime: string): Promise<string | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: { PK: `GRP#${groupId}`, SK: `FIRE#${fireTime}` }, ConsistentRead: true }));
  return result.Item?.groupRunId;
}

export async function listGroupRunRecords(groupId: string, limit: number, cursor?: string): Promise<Page<GroupRunRecord>> {
  const page = await queryPage({ index: 'GSI1', partition: groupRunsPartition(groupId), limit, cursor, newestFirst: true });
  return { items: page.items.map(toGroupRunRecord), nextCursor: page.nextCursor };
}

export interface GroupRunWrite {
  set?: Record<string, unknown>;
  /** Only the workflow steps of this execution attempt may move the run. */
  attempt?: number;
  /** Extra condition ANDed (e.g. the position a checkpoint advances from). */
  condition?: Condition;
}

/**
 * Applies one lifecycle transition: a conditional update of the group run,
 * in one transaction with the group item when the transition claims,
 * mirrors or releases the group's `activeGroupRun` slot. False when the run
 * (or, for a claim, the group's slot) was not in the state it starts from.
 */
export function transitionGroupRun(run: Pick<GroupRunRecord, 'id' | 'groupId'>, transition: GroupRunTransition, write: GroupRunWrite = {}): Promise<boolean> {
  const spec = GROUP_RUN_TRANSITIONS[transition];
  const conditions: Condition[] = [groupRunCondition(transition)];
  if (write.attempt !== undefined) conditions.push({ expression: '#attempt = :attempt', names: { '#attempt': 'attempt' }, values: { ':attempt': write.attempt } });
  if (write.condition) conditions.push(write.condition);
  const update = conditionalUpdate(groupRunKey(run.id), conditions, { ...write.set, status: spec.to, updatedAt: new Date().toISOString() });
  const group = groupKey(run.groupId);
  switch (spec.slot) {
    case 'claim':
      return writeTransition(update, { update: slotClaim(group, 'activeGroupRun', { id: run.id, status: spec.to }), claim: true });
    case 'mirror':
      return writeTransition(update, { update: slotMirror(group, 'activeGroupRun', run.id, { id: run.id, status: spec.to }), claim: false });
    case 'release':
      return writeTransition(update, { update: slotMirror(group, 'activeGroupRun', run.id, null), claim: false });
    case 'none':
      return writeTransition(update);
  }
}

/** Plain fields (the execution ARN once started); answers the group run as it is after the write. */
export async function setGroupRunFields(id: string, set: Record<string, unknown>): Promise<GroupRunRecord> {
  const result = await ddb.send(
    new UpdateCommand({ TableName: tableName(), Key: groupRunKey(id), ConditionExpression: 'attribute_exists(PK)', ReturnValues: 'ALL_NEW', ...setExpression(set) }),
  );
  return toGroupRunRecord(result.Attributes!);
}

export async function putPin(groupRunId: string, pin: PinnedStream): Promise<void> {
  await ddb.send(new PutCommand({ TableName: tableName(), Item: { ...pinKey(groupRunId, pin.position), type: 'group-run-pin', ...pin } }));
}

export async function getPin(groupRunId: string, position: number): Promise<PinnedStream | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: pinKey(groupRunId, position), ConsistentRead: true }));
  return result.Item as PinnedStream | undefined;
}

/** The run a StartStream of (attempt, position) started, if one did. */
export async function startMarkerRun(groupRunId: string, attempt: number, position: number): Promise<string | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: startMarkerKey(groupRunId, attempt, position), ConsistentRead: true }));
  return result.Item?.runId;
}

/**
 * The writes a stream run's insert transaction carries for a group: the
 * start marker (at most one run per attempt and position) and the group
 * run's `currentRunId`, under the condition that the group run is still
 * running this attempt at this position (a stop in between wins).
 */
export function groupStartWrites(groupRunId: string, attempt: number, position: number, runId: string): Record<string, unknown>[] {
  return [
    {
      Put: {
        TableName: tableName(),
        Item: { ...startMarkerKey(groupRunId, attempt, position), type: 'group-run-start', runId },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
    {
      Update: {
        TableName: tableName(),
        Key: groupRunKey(groupRunId),
        UpdateExpression: 'SET currentRunId = :runId, streamRuns.#p = :runId, updatedAt = :now',
        ConditionExpression: '#status = :running AND attempt = :attempt AND #position = :position',
        ExpressionAttributeNames: { '#status': 'status', '#p': String(position), '#position': 'position' },
        ExpressionAttributeValues: { ':runId': runId, ':running': 'running', ':attempt': attempt, ':position': position, ':now': new Date().toISOString() },
      },
    },
  ];
}
