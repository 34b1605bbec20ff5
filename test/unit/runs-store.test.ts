import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runStats } from '#shared/services/run-stats.ts';
import { endRun } from '#shared/services/runs.ts';
import { insertRun, transitionRun, type RunRecord } from '#shared/store/runs.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const run = { id: 'run_01ARZ3NDEKTSV4RRFFQ69G5FAV', streamId: 'stm_01ARZ3NDEKTSV4RRFFQ69G5FAV' };
const cancelled = (...codes: string[]) =>
  Object.assign(new Error('Transaction cancelled'), { name: 'TransactionCanceledException', CancellationReasons: codes.map((Code) => ({ Code })) });

describe('run transitions', () => {
  beforeEach(() => {
    ddbMock.reset();
    process.env.TABLE_NAME = 'sluice-test';
  });

  it('writes a caller transition as one update conditioned on the table’s from-states', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    expect(await transitionRun(run, 'pause')).toBe(true);
    const input = ddbMock.commandCalls(UpdateCommand)[0].args[0].input;
    expect(input.ConditionExpression).toBe('attribute_exists(PK) AND (#status IN (:from0) AND #desired IN (:want0))');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':from0': 'running', ':want0': 'running' });
    expect(Object.values(input.ExpressionAttributeValues!)).toContain('paused');
  });

  it('answers false when the run is no longer in a from-state', async () => {
    ddbMock.on(UpdateCommand).rejects(Object.assign(new Error('no'), { name: 'ConditionalCheckFailedException' }));
    expect(await transitionRun(run, 'resume')).toBe(false);
  });

  it('mirrors the observed status on the stream in the same transaction, guarded by the slot holding this run', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    expect(await transitionRun(run, 'park', { set: { taskToken: 't' }, streamActiveRun: { id: run.id, status: 'paused' } })).toBe(true);
    const items = ddbMock.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
    expect(items).toHaveLength(2);
    expect(items[1].Update!.ConditionExpression).toBe('activeRun.id = :runId');
    expect(items[1].Update!.ExpressionAttributeValues).toEqual({ ':slot': { id: run.id, status: 'paused' }, ':runId': run.id });
  });

  it('still moves the run when the stream no longer holds it (deleted, or a stale mirror)', async () => {
    ddbMock.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    ddbMock.on(UpdateCommand).resolves({});
    expect(await transitionRun(run, 'stop', { streamActiveRun: null })).toBe(true);
    const alone = ddbMock.commandCalls(UpdateCommand)[0].args[0].input;
    expect(alone.Key).toEqual({ PK: `RUN#${run.id}`, SK: 'RUN' });
    expect(alone.ConditionExpression).toBe(ddbMock.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems![0].Update!.ConditionExpression);
    // ...but not when the run itself has moved on in the meantime.
    ddbMock.on(UpdateCommand).rejects(Object.assign(new Error('no'), { name: 'ConditionalCheckFailedException' }));
    expect(await transitionRun(run, 'stop', { streamActiveRun: null })).toBe(false);
  });
});

describe('insertRun', () => {
  beforeEach(() => {
    ddbMock.reset();
    process.env.TABLE_NAME = 'sluice-test';
  });

  it('claims the stream’s single active-run slot with the run, and reports a busy stream', async () => {
    ddbMock.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'ConditionalCheckFailed'));
    expect(await insertRun({ ...run, status: 'running' } as RunRecord)).toEqual({ ok: false, reason: 'busy' });
    const items = ddbMock.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
    expect(items[1].Update!.ConditionExpression).toBe('attribute_exists(PK) AND (attribute_not_exists(activeRun) OR activeRun = :null)');
  });
});

describe('run uptime', () => {
  const base = {
    id: run.id,
    streamId: run.streamId,
    status: 'running',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: null,
    definition: { nodes: [], edges: [] },
    stats: [],
  } as unknown as RunRecord;
  const at = (iso: string) => Date.parse(iso);

  it('runs from start to now, or to the end', () => {
    expect(runStats(base, at('2026-01-01T00:01:40.000Z')).uptimeSeconds).toBe(100);
    expect(runStats({ ...base, status: 'finished', endedAt: '2026-01-01T00:00:30.000Z' }, at('2026-01-01T01:00:00.000Z')).uptimeSeconds).toBe(30);
  });

  it('leaves out earlier pauses and the current one', () => {
    const resumedTwice = { ...base, pausedMs: 40_000 };
    expect(runStats(resumedTwice, at('2026-01-01T00:01:40.000Z')).uptimeSeconds).toBe(60);
    const parked = { ...resumedTwice, status: 'paused', pausedAt: '2026-01-01T00:01:00.000Z' } as RunRecord;
    expect(runStats(parked, at('2026-01-01T00:01:40.000Z')).uptimeSeconds).toBe(20);
    // Stopped while parked: the pause lasted until the end.
    expect(runStats({ ...parked, status: 'stopped', endedAt: '2026-01-01T00:01:30.000Z' }, at('2026-01-01T02:00:00.000Z')).uptimeSeconds).toBe(20);
  });
});

describe('ending a run', () => {
  const sfnMock = mockClient(SFNClient);
  beforeEach(() => {
    ddbMock.reset();
    sfnMock.reset();
    process.env.TABLE_NAME = 'sluice-test';
  });

  it('answers the waiting group even when a first attempt already ended the run (a retried RecordEnd)', async () => {
    ddbMock.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    ddbMock.on(GetCommand).resolves({ Item: { id: run.id, streamId: run.streamId, status: 'finished', callbackToken: 'group-token', stats: [] } });
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    expect(await endRun(run, 'finished')).toBe(false);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'group-token', output: JSON.stringify({ runId: run.id, status: 'finished' }) },
    ]);
  });
});
