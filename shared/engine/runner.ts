import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EndStatus } from '../model/run-lifecycle.ts';
import { ddb, tableName } from '../store/client.ts';
import { cancellationReasons } from '../store/errors.ts';
import { prepareAggregateWrites } from '../store/aggregates.ts';
import { getRunRecord, getStreamOffsets, offsetsKey, runKey, setRunFields, type RunError, type RunRecord } from '../store/runs.ts';
import { TransientError, RunConfigurationError } from './errors.ts';
import { boundsOf, buildPipeline, closePipeline, evaluateBundle, storeItemCount, writeSinks, type BundleEvaluation, type Pipeline } from './pipeline.ts';
import type { NodeStats } from './types.ts';
import { testDelay, testFault } from './test-hooks.ts';

/**
 * ProcessBundle's core: runs bundles of one run until its time budget is
 * spent, the sources are drained, or a caller asked it to pause or stop, and
 * answers the state machine what to do next.
 *
 * Exactly once: a bundle's non-transactional sink writes are keyed by
 * (run, bundle) and happen first; then ONE TransactWriteItems commits the
 * run's checkpoint (the bundle marker: `checkpoint.bundle` goes from n-1 to n
 * under a condition), the stats, the stream's new offsets and every aggregate
 * update. A retried ProcessBundle re-reads the run: if bundle n committed it
 * goes on with n+1 from the committed offsets, otherwise it redoes n and its
 * sink writes overwrite the first attempt's.
 */
export type RunAction = 'more' | 'idle' | 'pause' | 'stop' | 'continue' | EndStatus;

export interface ProcessResult {
  action: RunAction;
  /** idle: seconds the state machine waits before polling again. */
  waitSeconds: number;
  bundles: number;
}

/** Room in one TransactWriteItems (100 items) after the run item and the offsets item. */
export const MAX_AGGREGATE_ITEMS = 98;
const MAX_RECENT_ERRORS = 20;

export interface ProcessOptions {
  /** Epoch ms after which no new bundle starts. */
  deadline: number;
  executionArn?: string;
}

export async function processRun(runId: string, options: ProcessOptions): Promise<ProcessResult> {
  let run = await getRunRecord(runId);
  if (!run) throw new RunConfigurationError(`run ${runId} does not exist`);
  if (options.executionArn && run.executionArn !== options.executionArn) {
    await setRunFields(runId, { executionArn: options.executionArn });
  }
  if (run.checkpoint.bundle === 0 && run.status === 'running') {
    // The run holds the stream's active-run slot now, so no offsets reset can slip in after this read.
    run = { ...run, checkpoint: { ...run.checkpoint, offsets: (await getStreamOffsets(run.streamId)).offsets } };
  }
  let pipeline: Pipeline | undefined;
  let bundles = 0;
  try {
    for (;;) {
      const stop = verdict(run);
      if (stop) return { action: stop, waitSeconds: 0, bundles };
      pipeline ??= await buildPipeline(run.definition, {
        stream: { id: run.streamId, solutionId: run.solutionId },
        runId: run.id,
        mode: run.definition.mode,
      });
      await testDelay(run);
      const batch = run.definition.mode === 'batch';
      const bounds = batch ? (run.checkpoint.bounds ?? (await boundsOf(pipeline, run.checkpoint.offsets))) : undefined;
      const limit = run.definition.settings.limits.numberOfEvents;
      let max = run.definition.settings.dataBundleSize;
      if (limit > 0) max = Math.min(max, limit - run.processed);

      let evaluation: BundleEvaluation;
      for (;;) {
        evaluation = await evaluateBundle(pipeline, { offsets: run.checkpoint.offsets, bounds }, max);
        // Bound the transaction: a bundle touching too many aggregate keys is cut in half until it fits.
        if (storeItemCount(evaluation) <= MAX_AGGREGATE_ITEMS || max === 1) break;
        max = Math.ceil(max / 2);
      }
      if (evaluation.consumed === 0) {
        if (batch && !run.checkpoint.bounds) await commitBounds(run, bounds!);
        return { action: batch ? 'finished' : 'idle', waitSeconds: 0, bundles };
      }
      const bundle = run.checkpoint.bundle + 1;
      await writeSinks(evaluation, { runId: run.id, streamId: run.streamId, solutionId: run.solutionId, bundle });
      testFault(run, bundle, 'before-commit');
      const committed = await commitBundle(run, bundle, evaluation, bounds);
      bundles++;
      testFault(run, bundle, 'after-commit');
      run = committed;
      if (limit > 0 && run.processed >= limit) return { action: 'event_limit_reached', waitSeconds: 0, bundles };
      if (batch && evaluation.exhausted) return { action: 'finished', waitSeconds: 0, bundles };
      if (Date.now() >= options.deadline) return { action: 'more', waitSeconds: 0, bundles };
      if (!batch && evaluation.exhausted) return { action: 'idle', waitSeconds: 0, bundles };
      const fresh = await getRunRecord(runId);
      if (!fresh) throw new RunConfigurationError(`run ${runId} vanished`);
      run = { ...fresh, checkpoint: run.checkpoint };
    }
  } finally {
    if (pipeline) await closePipeline(pipeline);
  }
}

/** What a run's stored state says before the next bundle: stop, pause, a limit, or nothing (go on). */
function verdict(run: RunRecord): RunAction | undefined {
  // A stop wins over everything; an ended run answers stop too (RecordEnd leaves it as it is).
  if (run.desiredStatus === 'stopped' || (run.status !== 'running' && run.status !== 'paused')) return 'stop';
  if (run.desiredStatus === 'paused') return 'pause';
  const { numberOfEvents, elapsedTime } = run.definition.settings.limits;
  if (elapsedTime > 0 && Date.now() - Date.parse(run.startedAt) >= elapsedTime * 1000) return 'time_limit_reached';
  if (numberOfEvents > 0 && run.processed >= numberOfEvents) return 'event_limit_reached';
  return undefined;
}

function addStats(previous: NodeStats[], evaluation: BundleEvaluation): NodeStats[] {
  const byId = new Map(previous.map((s) => [s.nodeId, { ...s }]));
  for (const delta of evaluation.stats.values()) {
    const current = byId.get(delta.nodeId) ?? { nodeId: delta.nodeId, type: delta.type, in: 0, out: 0, failed: 0, bytesIn: 0, bytesOut: 0 };
    current.in += delta.in;
    current.out += delta.out;
    current.failed += delta.failed;
    current.bytesIn += delta.bytesIn;
    current.bytesOut += delta.bytesOut;
    byId.set(delta.nodeId, current);
  }
  return [...byId.values()];
}

async function commitBounds(run: RunRecord, bounds: Record<string, unknown>): Promise<void> {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: runKey(run.id),
      UpdateExpression: 'SET #checkpoint.#bounds = :bounds',
      ExpressionAttributeNames: { '#checkpoint': 'checkpoint', '#bounds': 'bounds' },
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':bounds': bounds },
    }),
  );
}

async function commitBundle(
  run: RunRecord,
  bundle: number,
  evaluation: BundleEvaluation,
  bounds: Record<string, unknown> | undefined,
): Promise<RunRecord> {
  const now = new Date().toISOString();
  const next: RunRecord = {
    ...run,
    checkpoint: { bundle, offsets: { ...run.checkpoint.offsets, ...evaluation.offsets }, bounds: bounds as RunRecord['checkpoint']['bounds'], committedAt: now },
    stats: addStats(run.stats, evaluation),
    processed: run.processed + evaluation.consumed,
    recentErrors: [...run.recentErrors, ...(evaluation.failures as RunError[])].slice(-MAX_RECENT_ERRORS),
    updatedAt: now,
  };
  for (let attempt = 0; ; attempt++) {
    const aggregateItems: Record<string, unknown>[] = [];
    for (const [store, updates] of evaluation.storeUpdates) aggregateItems.push(...(await prepareAggregateWrites(run.solutionId, store, updates)));
    try {
      await ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: tableName(),
                Key: runKey(run.id),
                UpdateExpression: 'SET #checkpoint = :checkpoint, #stats = :stats, #processed = :processed, #errors = :errors, #updatedAt = :now',
                ConditionExpression: '#checkpoint.#bundle = :previous AND #status = :running',
                ExpressionAttributeNames: {
                  '#checkpoint': 'checkpoint',
                  '#bundle': 'bundle',
                  '#status': 'status',
                  '#stats': 'stats',
                  '#processed': 'processed',
                  '#errors': 'recentErrors',
                  '#updatedAt': 'updatedAt',
                },
                ExpressionAttributeValues: {
                  ':checkpoint': next.checkpoint,
                  ':stats': next.stats,
                  ':processed': next.processed,
                  ':errors': next.recentErrors,
                  ':now': now,
                  ':previous': bundle - 1,
                  ':running': 'running',
                },
              },
            },
            {
              Put: {
                TableName: tableName(),
                Item: { ...offsetsKey(run.streamId), type: 'offsets', offsets: next.checkpoint.offsets, runId: run.id, bundle, updatedAt: now },
              },
            },
            ...(aggregateItems as any[]),
          ],
        }),
      );
      return next;
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons) throw error;
      if (reasons[0] === 'ConditionalCheckFailed') {
        // Someone committed this bundle already (an earlier attempt of this task) or the run ended.
        throw new TransientError(`bundle ${bundle} of run ${run.id} was committed or the run ended meanwhile; re-reading`);
      }
      // An aggregate changed under us (another stream shares the store) or a transaction conflict: prepare again.
      if (attempt >= 8) throw new TransientError(`bundle ${bundle} of run ${run.id} could not commit: ${reasons.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt * Math.random()));
    }
  }
}
