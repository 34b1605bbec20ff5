import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ExecutionAction, ExecutionState, UpdateMethod } from '../model/execution.ts';
import { transitionWrite } from '../model/execution.ts';
import { ddb, tableName } from './client.ts';
import { recordOf } from './items.ts';
import { cancellationReasons, isConditionFailure } from './errors.ts';
import { queryPage, type Item } from './query.ts';
import type { Page } from './pagination.ts';
import { retryTransactionConflicts } from './retry.ts';
import { streamKey } from './streams.ts';

/**
 * Item layout (docs/datasets.md), all in the stream's partition `STM#{stm}`:
 *   EXE#{number:010}            the execution (listing order = number order)
 *   EXEID#{exe_…}               id → number alias
 *   EXECUTION#ACTIVE            the stream's one-ACTIVE-execution claim
 *   COUNTER#EXECUTIONS          ADD counter of execution numbers
 *   EXETOKEN#{token}            caller token → number (idempotent engine writes)
 *   PART#{number:010}#{part:010} one uploaded (or presigned) part
 */
export interface ExecutionRecord {
  id: string;
  number: number;
  streamId: string;
  solutionId: string;
  state: ExecutionState;
  updateMethod: UpdateMethod;
  keyColumnNames?: string[];
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  /** Why a commit failed. */
  error?: string;
  /** The dataset version a successful commit made, and its size. */
  version?: number;
  rows?: number;
  bytes?: number;
  /** The caller's idempotency token (engine writes), if any. */
  token?: string;
  commitToken?: string;
  commitExpiresAt?: number;
  /** Who created it (an API key id or `engine`). */
  createdBy?: string;
  /** Column names fixed by the first part an engine write stored. */
  columns?: string[];
}

export interface PartRecord {
  partId: number;
  key: string;
  source: 'inline' | 'presigned';
  bytes?: number;
  rows?: number;
  /** Column count found when an inline part was validated (undefined for presigned parts and empty parts). */
  columns?: number;
  uploadedAt: string;
}

const PART_FIELDS = ['partId', 'key', 'source', 'bytes', 'rows', 'columns', 'uploadedAt'] as const;

const pad = (n: number) => String(n).padStart(10, '0');
export const executionKey = (streamId: string, number: number) => ({ PK: `STM#${streamId}`, SK: `EXE#${pad(number)}` });
const aliasKey = (streamId: string, id: string) => ({ PK: `STM#${streamId}`, SK: `EXEID#${id}` });
export const activeExecutionKey = (streamId: string) => ({ PK: `STM#${streamId}`, SK: 'EXECUTION#ACTIVE' });
const tokenKey = (streamId: string, token: string) => ({ PK: `STM#${streamId}`, SK: `EXETOKEN#${token}` });
const partKey = (streamId: string, number: number, partId: number) => ({ PK: `STM#${streamId}`, SK: `PART#${pad(number)}#${pad(partId)}` });

const FIELDS = [
  'id', 'number', 'streamId', 'solutionId', 'state', 'updateMethod', 'keyColumnNames', 'createdAt', 'updatedAt', 'endedAt',
  'error', 'version', 'rows', 'bytes', 'token', 'commitToken', 'commitExpiresAt', 'createdBy', 'columns',
] as const;

function toExecution(item: Item): ExecutionRecord {
  return recordOf<ExecutionRecord>(item, FIELDS);
}

export async function nextExecutionNumber(streamId: string): Promise<number> {
  const result = await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { PK: `STM#${streamId}`, SK: 'COUNTER#EXECUTIONS' },
      UpdateExpression: 'ADD #value :one',
      ExpressionAttributeNames: { '#value': 'value' },
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(result.Attributes?.value);
}

export type InsertOutcome = 'ok' | 'busy' | 'no-stream' | 'token-used';

/**
 * Creates an ACTIVE execution: the stream must exist, its one-ACTIVE claim must
 * be free, and a caller token (if any) unused, all in one transaction.
 */
export async function insertExecution(execution: ExecutionRecord): Promise<InsertOutcome> {
  const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
    { ConditionCheck: { TableName: tableName(), Key: streamKey(execution.streamId), ConditionExpression: 'attribute_exists(PK)' } },
    {
      Put: {
        TableName: tableName(),
        Item: { ...activeExecutionKey(execution.streamId), type: 'active-execution', executionId: execution.id, number: execution.number },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
    {
      Put: {
        TableName: tableName(),
        Item: { ...executionKey(execution.streamId, execution.number), type: 'execution', ...execution },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
    { Put: { TableName: tableName(), Item: { ...aliasKey(execution.streamId, execution.id), type: 'execution-alias', number: execution.number } } },
  ];
  if (execution.token) {
    items.push({
      Put: {
        TableName: tableName(),
        Item: { ...tokenKey(execution.streamId, execution.token), type: 'execution-token', number: execution.number },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    });
  }
  try {
    await retryTransactionConflicts(() => ddb.send(new TransactWriteCommand({ TransactItems: items })));
    return 'ok';
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.[0] === 'ConditionalCheckFailed') return 'no-stream';
    if (reasons?.[4] === 'ConditionalCheckFailed') return 'token-used';
    if (reasons?.[1] === 'ConditionalCheckFailed') return 'busy';
    throw error;
  }
}

export async function getExecutionByNumber(streamId: string, number: number): Promise<ExecutionRecord | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: executionKey(streamId, number), ConsistentRead: true }));
  return result.Item ? toExecution(result.Item) : undefined;
}

export async function executionNumberOf(streamId: string, id: string): Promise<number | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: aliasKey(streamId, id), ConsistentRead: true }));
  return result.Item?.number;
}

export async function executionNumberOfToken(streamId: string, token: string): Promise<number | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: tokenKey(streamId, token), ConsistentRead: true }));
  return result.Item?.number;
}

export async function activeExecutionNumber(streamId: string): Promise<number | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: activeExecutionKey(streamId), ConsistentRead: true }));
  return result.Item?.number;
}

export async function listExecutionRecords(streamId: string, limit: number, cursor?: string, newestFirst = true): Promise<Page<ExecutionRecord>> {
  const page = await queryPage({ partition: `STM#${streamId}`, sortBeginsWith: 'EXE#', limit, cursor, newestFirst });
  return { items: page.items.map(toExecution), nextCursor: page.nextCursor };
}

export interface TransitionOptions {
  token?: string;
  set?: Record<string, unknown>;
  /** Release the stream's one-ACTIVE claim in the same transaction (every transition out of ACTIVE). */
  releaseActive?: boolean;
  /** Further writes that must happen atomically with the transition (the dataset pointer flip). */
  with?: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;
}

/**
 * One transition of the lifecycle table as one conditional write; false when
 * the execution was not in the state the table requires (someone else won).
 */
export async function transitionExecution(execution: ExecutionRecord, action: ExecutionAction, options: TransitionOptions = {}): Promise<boolean> {
  const now = new Date();
  const write = transitionWrite(action, { token: options.token, now: now.toISOString(), nowSeconds: Math.floor(now.getTime() / 1000), set: options.set });
  const update = {
    TableName: tableName(),
    Key: executionKey(execution.streamId, execution.number),
    UpdateExpression: write.update,
    ConditionExpression: `attribute_exists(PK) AND ${write.condition}`,
    ExpressionAttributeNames: write.names,
    ExpressionAttributeValues: write.values,
  };
  const extra = [...(options.with ?? [])];
  if (options.releaseActive) {
    extra.push({
      Delete: {
        TableName: tableName(),
        Key: activeExecutionKey(execution.streamId),
        ConditionExpression: 'executionId = :id',
        ExpressionAttributeValues: { ':id': execution.id },
      },
    });
  }
  try {
    if (extra.length === 0) await ddb.send(new UpdateCommand(update));
    else await retryTransactionConflicts(() => ddb.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, ...extra] })));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    const reasons = cancellationReasons(error);
    if (reasons?.includes('ConditionalCheckFailed')) return false;
    throw error;
  }
}

/** Records a part while the execution is still ACTIVE and unclaimed; false otherwise. */
export async function putPart(execution: ExecutionRecord, part: PartRecord): Promise<boolean> {
  const now = new Date();
  const write = transitionWrite('edit', { now: now.toISOString(), nowSeconds: Math.floor(now.getTime() / 1000) });
  try {
    await retryTransactionConflicts(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: tableName(),
                Key: executionKey(execution.streamId, execution.number),
                ConditionExpression: write.condition,
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: Object.fromEntries(Object.entries(write.values).filter(([k]) => k === ':from' || k === ':nowSeconds')),
              },
            },
            { Put: { TableName: tableName(), Item: { ...partKey(execution.streamId, execution.number, part.partId), type: 'part', ...part } } },
          ],
        }),
      ),
    );
    return true;
  } catch (error) {
    if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') return false;
    throw error;
  }
}

export async function getPart(execution: ExecutionRecord, partId: number): Promise<PartRecord | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: partKey(execution.streamId, execution.number, partId), ConsistentRead: true }));
  return result.Item as PartRecord | undefined;
}

/**
 * The parts of an execution in partId order. Strongly consistent: a part
 * acknowledged just before the commit claim must be in the version.
 */
export async function listParts(execution: ExecutionRecord): Promise<PartRecord[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
        ExpressionAttributeValues: { ':pk': `STM#${execution.streamId}`, ':sk': `PART#${pad(execution.number)}#` },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.map((item) => recordOf<PartRecord>(item, PART_FIELDS));
}

/** Sets fields of an execution that is still ACTIVE and unclaimed; false otherwise. */
export const updateExecutionFields = (execution: ExecutionRecord, set: Record<string, unknown>): Promise<boolean> =>
  transitionExecution(execution, 'edit', { set });

