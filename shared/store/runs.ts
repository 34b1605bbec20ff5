import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Definition } from '../model/definition.ts';
import { transitionCondition, type DesiredStatus, type RunStatus, type RunTransition, RUN_TRANSITIONS } from '../model/run-lifecycle.ts';
import type { NodeStats, SourceOffset } from '../engine/types.ts';
import type { TestHooks } from '../engine/test-hooks.ts';
import { ddb, tableName } from './client.ts';
import { recordOf } from './items.ts';
import { conditionalUpdate, setExpression, type Condition } from './update.ts';
import { cancellationReasons } from './errors.ts';
import { queryPage, type Item } from './query.ts';
import type { Page } from './pagination.ts';
import { retryTransactionConflicts } from './retry.ts';
import { slotClaim, slotFree, slotMirror, writeTransition } from './slots.ts';
import { streamKey } from './streams.ts';

/**
 * Runs: `PK=RUN#{runId}, SK=RUN`, listed per stream on GSI1
 * (`GSI1PK=STM#{streamId}#RUNS`, `GSI1SK=runId`: ULIDs sort by start time).
 * The stream's committed source offsets: `PK=STM#{streamId}, SK=OFFSETS`
 * (in the stream's partition, so they go when the stream is deleted).
 */
export type RunTrigger = 'api' | 'schedule' | 'group';

export interface RunCheckpoint {
  /** The last bundle committed (0 before the first). Doubles as the bundle marker. */
  bundle: number;
  /** Source offsets after that bundle, per source node id. */
  offsets: Record<string, SourceOffset>;
  /** Batch runs: where each source stood when the run started (it drains up to there). */
  bounds?: Record<string, SourceOffset | null>;
  committedAt?: string;
}

export interface RunError {
  code: string;
  message: string;
  nodeId?: string;
  at?: string;
}

export interface RunRecord {
  id: string;
  streamId: string;
  solutionId: string;
  version: string;
  executionId: string;
  /** ARN of the Step Functions execution currently carrying the run (changes on continue-as-new). */
  executionArn?: string;
  trigger: RunTrigger;
  /** The compatibility face that started it (DBConvert sees only its own runs); absent for native starts. */
  face?: 'dbconvert';
  status: RunStatus;
  desiredStatus: DesiredStatus;
  startedAt: string;
  endedAt: string | null;
  updatedAt: string;
  /** The definition the run executes, frozen at start. */
  definition: Definition;
  checkpoint: RunCheckpoint;
  /** Per node, in graph order. */
  stats: NodeStats[];
  /** Records read from the sources (numberOfEvents counts these). */
  processed: number;
  error: RunError | null;
  /** A sample of the last record errors (skip-on-error nodes). */
  recentErrors: RunError[];
  /** Set while parked: the Step Functions task token resume and stop answer. */
  taskToken?: string;
  /** When the run last parked; cleared on resume, when its pause is added to `pausedMs`. */
  pausedAt?: string;
  /** Time spent parked before the current pause, which uptime leaves out. */
  pausedMs?: number;
  /** Schedule runs: the fire time that started it. */
  fireTime?: string;
  groupRunId?: string;
  /** Answered with SendTaskSuccess/Failure when the run ends (a group run waits on it). */
  callbackToken?: string;
  /** Test-only switches (shared/engine/test-hooks.ts); absent in production. */
  testHooks?: TestHooks;
}

export const runKey = (id: string) => ({ PK: `RUN#${id}`, SK: 'RUN' });
export const offsetsKey = (streamId: string) => ({ PK: `STM#${streamId}`, SK: 'OFFSETS' });
export const runsPartition = (streamId: string) => `STM#${streamId}#RUNS`;

const RUN_FIELDS = [
  'id', 'streamId', 'solutionId', 'version', 'executionId', 'executionArn', 'trigger', 'face', 'status', 'desiredStatus', 'startedAt',
  'endedAt', 'updatedAt', 'definition', 'checkpoint', 'stats', 'processed', 'error', 'recentErrors', 'taskToken', 'pausedAt', 'pausedMs', 'fireTime', 'groupRunId',
  'callbackToken', 'testHooks',
] as const;

export function toRunRecord(item: Item): RunRecord {
  return recordOf<RunRecord>(item, RUN_FIELDS, { endedAt: null, error: null, recentErrors: [], stats: [], processed: 0 });
}

export function runItem(run: RunRecord): Item {
  return { ...runKey(run.id), GSI1PK: runsPartition(run.streamId), GSI1SK: run.id, type: 'run', ...run };
}

export async function getRunRecord(id: string): Promise<RunRecord | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: runKey(id), ConsistentRead: true }));
  return result.Item ? toRunRecord(result.Item) : undefined;
}

export type InsertOutcome = { ok: true } | { ok: false; reason: 'busy' | 'gone' };

/**
 * Creates the run and claims the stream's single active-run slot in one
 * transaction: the stream item's `activeRun` must be empty.
 */
export async function insertRun(run: RunRecord, extra: Record<string, unknown>[] = []): Promise<InsertOutcome> {
  try {
    await retryTransactionConflicts(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: tableName(), Item: runItem(run), ConditionExpression: 'attribute_not_exists(PK)' } },
            { Update: slotClaim(streamKey(run.streamId), 'activeRun', { id: run.id, status: run.status }) },
            ...(extra as any[]),
          ],
        }),
      ),
    );
    return { ok: true };
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.some((r) => r === 'ConditionalCheckFailed')) return { ok: false, reason: 'busy' };
    throw error;
  }
}

export interface TransitionWrite {
  /** Extra fields to set besides the table's fixed ones. */
  set?: Record<string, unknown>;
  remove?: string[];
  /** Extra condition ANDed to the table's (e.g. the token being answered). */
  condition?: Condition;
  /** Mirror the new observed status on the stream item (`activeRun.status`), or clear the slot (`null`). */
  streamActiveRun?: { id: string; status: string } | null;
}

/**
 * Applies one lifecycle transition as one conditional write (a transaction
 * with the stream item when its `activeRun` mirror changes). False when the
 * run was not in a state the transition starts from.
 */
export function transitionRun(run: Pick<RunRecord, 'id' | 'streamId'>, transition: RunTransition, write: TransitionWrite = {}): Promise<boolean> {
  const { to } = RUN_TRANSITIONS[transition];
  const set: Record<string, unknown> = { ...write.set, updatedAt: new Date().toISOString() };
  if (to.status) set.status = to.status;
  if (to.desiredStatus) set.desiredStatus = to.desiredStatus;
  const conditions = [transitionCondition(transition), ...(write.condition ? [write.condition] : [])];
  const update = conditionalUpdate(runKey(run.id), conditions, set, write.remove);
  if (write.streamActiveRun === undefined) return writeTransition(update);
  return writeTransition(update, { update: slotMirror(streamKey(run.streamId), 'activeRun', run.id, write.streamActiveRun), claim: false });
}

/** While the run is active, points its end at a new callback token. False once it ended. */
export function replaceCallbackToken(runId: string, taskToken: string): Promise<boolean> {
  const active = { expression: '#status IN (:running, :paused)', names: { '#status': 'status' }, values: { ':running': 'running', ':paused': 'paused' } };
  return writeTransition(conditionalUpdate(runKey(runId), [active], { callbackToken: taskToken }));
}

/** Sets plain fields of a run (execution ARN after continue-as-new). */
export async function setRunFields(id: string, set: Record<string, unknown>): Promise<void> {
  await ddb.send(
    new UpdateCommand({ TableName: tableName(), Key: runKey(id), ConditionExpression: 'attribute_exists(PK)', ...setExpression(set) }),
  );
}

export async function listRunRecords(streamId: string, limit: number, cursor?: string): Promise<Page<RunRecord>> {
  const page = await queryPage({ index: 'GSI1', partition: runsPartition(streamId), limit, cursor, newestFirst: true });
  return { items: page.items.map(toRunRecord), nextCursor: page.nextCursor };
}

export interface StreamOffsets {
  offsets: Record<string, SourceOffset>;
  updatedAt: string | null;
  runId?: string;
}

export async function getStreamOffsets(streamId: string): Promise<StreamOffsets> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: offsetsKey(streamId), ConsistentRead: true }));
  return { offsets: result.Item?.offsets ?? {}, updatedAt: result.Item?.updatedAt ?? null, runId: result.Item?.runId };
}

/** Sets (or clears) the stream's offsets only while the stream has no active run. False otherwise. */
export async function resetStreamOffsets(streamId: string, offsets: Record<string, SourceOffset>): Promise<boolean> {
  try {
    await retryTransactionConflicts(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: tableName(),
                Key: streamKey(streamId),
                ConditionExpression: `attribute_exists(PK) AND ${slotFree('activeRun')}`,
                ExpressionAttributeValues: { ':null': null },
              },
            },
            { Put: { TableName: tableName(), Item: { ...offsetsKey(streamId), type: 'offsets', offsets, updatedAt: new Date().toISOString() } } },
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
