import { readFileSync } from 'node:fs';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { allowsGroupRun, GROUP_RUN_TRANSITIONS, groupRunCondition } from '#shared/model/group-run-lifecycle.ts';
import { insertGroupRun, transitionGroupRun, type GroupRunRecord } from '#shared/store/group-runs.ts';
import { recordGroupFailure, startGroupOf, startGroupStream, stopGroup } from '#shared/services/group-runs.ts';
import { stateMachines } from '#infra/statemachines/index.ts';
import { removeStream } from '#shared/store/streams.ts';
import type { StreamRecord } from '#shared/store/streams.ts';
import type { GroupRecord } from '#shared/store/groups.ts';
import { deleteStream, MAX_DELETE_GROUPS } from '#shared/services/streams.ts';
import { deleteGroup, replaceGroupDefinition } from '#shared/services/groups.ts';
import type { Principal } from '#shared/model/principal.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const sfnMock = mockClient(SFNClient);
const schedulerMock = mockClient(SchedulerClient);
const cancelled = (...codes: string[]) =>
  Object.assign(new Error('Transaction cancelled'), { name: 'TransactionCanceledException', CancellationReasons: codes.map((Code) => ({ Code })) });
const groupRun = { id: 'grun_01ARZ3NDEKTSV4RRFFQ69G5FAV', groupId: 'grp_01ARZ3NDEKTSV4RRFFQ69G5FAV' };

beforeEach(() => {
  ddbMock.reset();
  sfnMock.reset();
  process.env.TABLE_NAME = 'sluice-test';
});

describe('the group-run lifecycle', () => {
  it('allows only the table’s transitions', () => {
    expect(allowsGroupRun('stop', { status: 'running' })).toBe(true);
    expect(allowsGroupRun('stop', { status: 'finished' })).toBe(false);
    expect(allowsGroupRun('resume', { status: 'failed' })).toBe(true);
    expect(allowsGroupRun('resume', { status: 'finished' })).toBe(false);
    expect(allowsGroupRun('resume', { status: 'running' })).toBe(false);
    expect(groupRunCondition('fail')).toEqual({ expression: '#status IN (:gf0, :gf1)', names: { '#status': 'status' }, values: { ':gf0': 'preparing', ':gf1': 'running' } });
    // Every transition that ends a run frees the group; resume claims it again.
    for (const t of ['finish', 'fail', 'stop'] as const) expect(GROUP_RUN_TRANSITIONS[t].slot).toBe('release');
    expect(GROUP_RUN_TRANSITIONS.resume.slot).toBe('claim');
  });

  it('writes a workflow transition conditioned on its attempt, releasing the group slot only while it holds this run', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    expect(await transitionGroupRun(groupRun, 'finish', { attempt: 2, set: { endedAt: 'now' } })).toBe(true);
    const [run, group] = ddbMock.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
    expect(run.Update!.ConditionExpression).toBe('attribute_exists(PK) AND (#status IN (:gf0)) AND (#attempt = :attempt)');
    expect(run.Update!.ExpressionAttributeValues).toMatchObject({ ':attempt': 2, ':gf0': 'running' });
    expect(group.Update!.ConditionExpression).toBe('activeGroupRun.id = :runId');
    expect(group.Update!.ExpressionAttributeValues).toEqual({ ':slot': null, ':runId': groupRun.id });
  });

  it('refuses a resume when the group is busy with another run, without moving the run alone', async () => {
    ddbMock.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    expect(await transitionGroupRun(groupRun, 'resume')).toBe(false);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
    const [, group] = ddbMock.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
    expect(group.Update!.ConditionExpression).toBe('attribute_exists(PK) AND (attribute_not_exists(activeGroupRun) OR activeGroupRun = :null)');
  });

  it('reports a busy group or a changed one when the claim fails, and a repeated fire when its marker exists', async () => {
    const record = { ...groupRun, solutionId: 'sol_1', status: 'preparing' } as GroupRunRecord;
    ddbMock.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'ConditionalCheckFailed'));
    ddbMock.on(GetCommand).resolves({ Item: { PK: 'GRP#x', activeGroupRun: { id: 'grun_other', status: 'running' } } });
    // The group as the failed claim read it comes back, so the caller does not read it again.
    expect(await insertGroupRun(record, 3)).toMatchObject({ outcome: 'busy', group: { activeGroupRun: { id: 'grun_other', status: 'running' } } });
    // Claimed at the revision its streams were copied from.
    const claim = ddbMock.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems![1].Update!;
    expect(claim.ConditionExpression).toContain('revision = :revision');
    expect(claim.ExpressionAttributeValues).toMatchObject({ ':revision': 3 });
    ddbMock.reset();
    ddbMock.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'ConditionalCheckFailed'));
    ddbMock.on(GetCommand).resolves({ Item: { PK: 'GRP#x', activeGroupRun: null, revision: 4 } });
    expect(await insertGroupRun(record, 3)).toMatchObject({ outcome: 'stale', group: { revision: 4, activeGroupRun: null } });
    ddbMock.reset();
    ddbMock.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'ConditionalCheckFailed'));
    ddbMock.on(GetCommand).resolves({});
    expect(await insertGroupRun(record, 3)).toEqual({ outcome: 'gone' });
    ddbMock.reset();
    ddbMock.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'ConditionalCheckFailed'));
    expect(await insertGroupRun({ ...record, fireTime: '2026-01-01T00:00:00.000Z' }, 3)).toEqual({ outcome: 'fired' });
  });
});

describe('group start', () => {
  it('starts again from the group as the failed claim read it, and gives up with 409 when the group keeps changing', async () => {
    process.env.GROUP_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:group';
    const group = { id: groupRun.groupId, solutionId: 'sol_1', streams: ['stm_a'], revision: 1, activeGroupRun: null } as unknown as GroupRecord;
    ddbMock.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    let revision = 1;
    ddbMock.on(GetCommand).callsFake(() => ({ Item: { ...group, revision: ++revision } }));
    await expect(startGroupOf(group, { trigger: 'api' })).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/being changed by others/) });
    // Each attempt claimed at the revision the previous refusal read: 1, then 2..5.
    expect(ddbMock.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems![1].Update!.ExpressionAttributeValues![':revision'])).toEqual([1, 2, 3, 4, 5]);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('stop and failure paths read the group run once', () => {
  const record = {
    ...groupRun, solutionId: 'sol_1', status: 'running', streams: ['stm_a', 'stm_b'], position: 1, completedStreams: ['stm_a'],
    currentRunId: null, attempt: 1, executionArn: 'arn:aws:states:us-east-1:0:execution:sluice-group:x',
  };
  const runKey = { PK: `GRUN#${groupRun.id}`, SK: 'GRUN' };

  it('RecordGroupFailure: one read, then the fail transition; the answer is the status it wrote', async () => {
    ddbMock.on(GetCommand, { Key: runKey }).resolves({ Item: record });
    ddbMock.on(TransactWriteCommand).resolves({});
    const cause = JSON.stringify({ errorMessage: 'stream stm_b already has an active run run_1 that this group did not start' });
    expect(await recordGroupFailure({ groupRunId: groupRun.id, attempt: 1, error: { Error: 'Sluice.StreamBusy', Cause: cause } })).toEqual({ groupRunId: groupRun.id, status: 'failed' });
    expect(ddbMock.commandCalls(GetCommand)).toHaveLength(1);
    const update = ddbMock.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems![0].Update!;
    expect(Object.values(update.ExpressionAttributeValues!)).toContainEqual(expect.objectContaining({ code: 'stream_busy', streamId: 'stm_b', position: 1 }));
    // Not applied (another attempt owns the run): the status is read again for the answer.
    ddbMock.reset();
    ddbMock.on(GetCommand, { Key: runKey }).resolves({ Item: { ...record, attempt: 2, status: 'preparing' } });
    ddbMock.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    expect(await recordGroupFailure({ groupRunId: groupRun.id, attempt: 1 })).toEqual({ groupRunId: groupRun.id, status: 'preparing' });
    expect(ddbMock.commandCalls(GetCommand)).toHaveLength(2);
  });

  it('POST stop: the group names the run, the conditional stop checks it, one read after the stop', async () => {
    ddbMock.on(GetCommand, { Key: { PK: `GRP#${groupRun.groupId}`, SK: 'GROUP' } }).resolves({
      Item: { id: groupRun.groupId, solutionId: 'sol_1', streams: ['stm_a', 'stm_b'], revision: 1, activeGroupRun: { id: groupRun.id, status: 'running' } },
    });
    ddbMock.on(GetCommand, { Key: runKey }).resolves({ Item: { ...record, status: 'stopped' } });
    ddbMock.on(TransactWriteCommand).resolves({});
    sfnMock.on(StopExecutionCommand).resolves({});
    const stopped = await stopGroup({ keyId: 'k', solutionId: 'sol_1', scopes: ['runs:write'] }, groupRun.groupId);
    expect(stopped).toMatchObject({ id: groupRun.id, status: 'stopped' });
    expect(ddbMock.commandCalls(GetCommand).map((c) => c.args[0].input.Key!.PK)).toEqual([`GRP#${groupRun.groupId}`, `GRUN#${groupRun.id}`]);
    const [stop, slot] = ddbMock.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
    expect(stop.Update!.ConditionExpression).toBe('attribute_exists(PK) AND (#status IN (:gf0, :gf1))');
    expect(slot.Update!.ExpressionAttributeValues).toEqual({ ':slot': null, ':runId': groupRun.id });
    expect(sfnMock.commandCalls(StopExecutionCommand)[0].args[0].input.executionArn).toBe(record.executionArn);
  });
});

describe('stream delete', () => {
  const stream = { id: 'stm_1', solutionId: 'sol_1', namespace: 'default', name: 'a', revision: 3, activeRun: null, definition: { mode: 'batch', nodes: [], edges: [] } } as unknown as StreamRecord;
  const principal: Principal = { keyId: 'k', solutionId: 'sol_1', scopes: ['streams:write'] };
  const group = (id: string, revision: number, streams: string[], activeGroupRun: { id: string; status: string } | null = null) =>
    ({ id, solutionId: 'sol_1', name: id, description: '', streams, schedule: null, revision, createdAt: 't', updatedAt: 't', activeGroupRun }) as GroupRecord;
  const memberships = (...groupIds: string[]) => ({ Items: groupIds.map((groupId) => ({ PK: 'STM#stm_1', SK: `GROUP#${groupId}`, groupId })) });
  const groupGet = (id: string) => ({ Key: { PK: `GRP#${id}`, SK: 'GROUP' } });
  /** The delete reads its groups in one BatchGet. */
  const groupsRead = (...groups: GroupRecord[]) => ({ Responses: { [process.env.TABLE_NAME!]: groups.map((g) => ({ PK: `GRP#${g.id}`, SK: 'GROUP', ...g })) } });
  const transactions = () => ddbMock.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems!);

  beforeEach(() => {
    process.env.PURGE_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:0:stateMachine:sluice-purge';
    schedulerMock.reset();
    ddbMock.on(GetCommand, { Key: { PK: 'STM#stm_1', SK: 'STREAM' } }).resolves({ Item: { PK: 'STM#stm_1', SK: 'STREAM', ...stream } });
  });

  it('takes the stream out of each of its groups in the delete transaction, under the revision read and an idle group', async () => {
    ddbMock.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'None', 'None', 'ConditionalCheckFailed', 'None', 'None'));
    const groups = [group('grp_a', 2, ['stm_0', 'stm_1', 'stm_2']), group('grp_b', 7, ['stm_1'])];
    expect(await removeStream(stream, groups)).toBe('group-changed');
    const items = transactions()[0];
    expect(items).toHaveLength(7);
    expect(items[0].Delete!.Key).toEqual({ PK: 'STM#stm_1', SK: 'STREAM' });
    const [updateA, membershipA, updateB, membershipB] = items.slice(2, 6);
    expect(updateA.Update).toMatchObject({
      Key: { PK: 'GRP#grp_a', SK: 'GROUP' },
      UpdateExpression: 'SET streams = :streams, revision = :next, updatedAt = :updatedAt',
      // Never creates a group that is gone; refuses a group changed or started since the read.
      ConditionExpression: 'attribute_exists(PK) AND revision = :revision AND (attribute_not_exists(activeGroupRun) OR activeGroupRun = :null)',
      ExpressionAttributeValues: { ':streams': ['stm_0', 'stm_2'], ':revision': 2, ':next': 3, ':null': null },
    });
    expect(updateB.Update!.ExpressionAttributeValues).toMatchObject({ ':streams': [], ':revision': 7, ':next': 8 });
    expect(membershipA.Delete!.Key).toEqual({ PK: 'STM#stm_1', SK: 'GROUP#grp_a' });
    expect(membershipB.Delete!.Key).toEqual({ PK: 'STM#stm_1', SK: 'GROUP#grp_b' });
    // The purge tombstone is written in the same transaction, so a deleted stream is always listed until purged.
    expect(items.at(-1)!.Put!.Item).toMatchObject({ PK: 'PURGE', SK: 'stm_1', solutionId: 'sol_1', target: { streamId: 'stm_1', solutionId: 'sol_1', cdcSources: [] } });
  });

  it('reads the group again and retries when a PUT changed it between the read and the transaction', async () => {
    ddbMock.on(QueryCommand).resolvesOnce(memberships('grp_a')).resolvesOnce(memberships('grp_a')).resolves({ Items: [] });
    ddbMock.on(BatchGetCommand).resolvesOnce(groupsRead(group('grp_a', 3, ['stm_1', 'stm_2']))).resolves(groupsRead(group('grp_a', 4, ['stm_2', 'stm_1'])));
    ddbMock.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'None', 'ConditionalCheckFailed', 'None', 'None')).resolves({});
    await deleteStream(principal, 'stm_1');
    const [first, second] = transactions();
    expect(first[2].Update!.ExpressionAttributeValues).toMatchObject({ ':streams': ['stm_2'], ':revision': 3, ':next': 4 });
    expect(second[2].Update!.ExpressionAttributeValues).toMatchObject({ ':streams': ['stm_2'], ':revision': 4, ':next': 5 });
    expect(transactions()).toHaveLength(2);
    // The membership query of the delete is strongly consistent.
    expect(ddbMock.commandCalls(QueryCommand).every((call) => call.args[0].input.ConsistentRead === true)).toBe(true);
    expect(schedulerMock.commandCalls(DeleteScheduleCommand)).toHaveLength(1);
    expect(sfnMock.commandCalls(StartExecutionCommand)[0].args[0].input.name).toBe('purge-stm_1');
  });

  it('answers 409 naming the group when the retry finds it running, and writes nothing more', async () => {
    ddbMock.on(QueryCommand).resolves(memberships('grp_a'));
    ddbMock.on(BatchGetCommand).resolvesOnce(groupsRead(group('grp_a', 3, ['stm_1']))).resolves(groupsRead(group('grp_a', 3, ['stm_1'], { id: 'grun_1', status: 'preparing' })));
    ddbMock.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'ConditionalCheckFailed', 'None', 'None'));
    await expect(deleteStream(principal, 'stm_1')).rejects.toMatchObject({ status: 409, message: expect.stringContaining('stream group grp_a, which is running (grun_1)') });
    expect(transactions()).toHaveLength(1);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('gives up with 409 after a bounded number of races', async () => {
    ddbMock.on(QueryCommand).resolves(memberships('grp_a'));
    ddbMock.on(BatchGetCommand).resolves(groupsRead(group('grp_a', 3, ['stm_1'])));
    ddbMock.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'ConditionalCheckFailed', 'None', 'None'));
    await expect(deleteStream(principal, 'stm_1')).rejects.toMatchObject({ status: 409, message: expect.stringContaining('try again') });
    expect(transactions()).toHaveLength(5);
  });

  it('refuses a stream in more groups than one transaction can update, before writing anything', async () => {
    const ids = Array.from({ length: MAX_DELETE_GROUPS + 1 }, (_, i) => `grp_${i}`);
    ddbMock.on(QueryCommand).resolves(memberships(...ids));
    ddbMock.on(BatchGetCommand).resolves(groupsRead(...ids.map((id) => group(id, 1, ['stm_1']))));
    await expect(deleteStream(principal, 'stm_1')).rejects.toMatchObject({ status: 409, message: expect.stringContaining(`belongs to ${MAX_DELETE_GROUPS + 1} stream groups`) });
    expect(transactions()).toHaveLength(0);
    // 3 + 2 per group: the largest delete transaction stays within DynamoDB's 100 items.
    expect(3 + 2 * MAX_DELETE_GROUPS).toBeLessThanOrEqual(100);
  });

  it('after the commit, takes the stream out of a group that added it after the memberships were read (even a running one)', async () => {
    ddbMock.on(QueryCommand).resolvesOnce({ Items: [] }).resolves(memberships('grp_late'));
    ddbMock.on(GetCommand, groupGet('grp_late')).resolves({ Item: group('grp_late', 5, ['stm_1', 'stm_9'], { id: 'grun_2', status: 'running' }) });
    ddbMock.on(TransactWriteCommand).resolves({});
    await deleteStream(principal, 'stm_1');
    const [deleted, late] = transactions();
    expect(deleted).toHaveLength(3);
    expect(late[0].Update).toMatchObject({
      Key: { PK: 'GRP#grp_late', SK: 'GROUP' },
      ConditionExpression: 'attribute_exists(PK) AND revision = :revision',
      ExpressionAttributeValues: { ':streams': ['stm_9'], ':revision': 5, ':next': 6 },
    });
    expect(late[1].Delete!.Key).toEqual({ PK: 'STM#stm_1', SK: 'GROUP#grp_late' });
  });

  it('a group PUT that added a stream deleted after its check takes it out again (the delete could not see the group)', async () => {
    // The check before the write finds both streams; the one after it finds stm_2 deleted.
    const found = (...ids: string[]) => ({ Responses: { 'sluice-test': ids.map((id) => ({ PK: `STM#${id}`, SK: 'STREAM', solutionId: 'sol_1' })) } });
    ddbMock.on(BatchGetCommand).resolvesOnce(found('stm_1', 'stm_2')).resolves(found());
    ddbMock
      .on(GetCommand, groupGet('grp_a'))
      .resolvesOnce({ Item: group('grp_a', 1, ['stm_1']) })
      .resolvesOnce({ Item: group('grp_a', 2, ['stm_1', 'stm_2']) })
      .resolves({ Item: group('grp_a', 3, ['stm_1']) });
    ddbMock.on(TransactWriteCommand).resolves({});
    const replaced = await replaceGroupDefinition(principal, 'grp_a', { name: 'grp_a', description: '', streams: ['stm_1', 'stm_2'], schedule: null });
    expect(replaced).toMatchObject({ streams: ['stm_1'], revision: 3 });
    const [put, drop] = transactions();
    expect(put[0].Update!.ExpressionAttributeValues).toMatchObject({ ':streams': ['stm_1', 'stm_2'], ':next': 2 });
    expect(drop[0].Update).toMatchObject({ ConditionExpression: 'attribute_exists(PK) AND revision = :revision', ExpressionAttributeValues: { ':streams': ['stm_1'], ':revision': 2, ':next': 3 } });
  });
});

describe('group delete', () => {
  const principal: Principal = { keyId: 'k', solutionId: 'sol_1', scopes: ['runs:write'] };
  const group = (revision: number, activeGroupRun: { id: string; status: string } | null = null) =>
    ({ PK: 'GRP#grp_a', SK: 'GROUP', id: 'grp_a', solutionId: 'sol_1', name: 'a', description: '', streams: ['stm_1'], schedule: null, revision, createdAt: 't', updatedAt: 't', activeGroupRun });
  const stale = () => cancelled('ConditionalCheckFailed', 'None', 'None');
  const deletes = () => ddbMock.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems![0].Delete!);

  beforeEach(() => {
    process.env.PURGE_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:0:stateMachine:sluice-purge';
  });

  it('without If-Match, reads the group again and retries when it changed between the read and the delete (a stream delete took itself out)', async () => {
    ddbMock.on(GetCommand).resolvesOnce({ Item: group(3) }).resolves({ Item: group(4) });
    ddbMock.on(TransactWriteCommand).rejectsOnce(stale()).resolves({});
    await deleteGroup(principal, 'grp_a');
    expect(deletes().map((d) => d.ExpressionAttributeValues![':revision'])).toEqual([3, 4]);
    expect(deletes()[1].ConditionExpression).toBe('revision = :revision AND (attribute_not_exists(activeGroupRun) OR activeGroupRun = :null)');
    expect(sfnMock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name)).toEqual(['purge-grp_a']);
  });

  it('with If-Match, a group changed meanwhile stays 412 and is not deleted', async () => {
    ddbMock.on(GetCommand).resolvesOnce({ Item: group(3) }).resolves({ Item: group(4) });
    ddbMock.on(TransactWriteCommand).rejectsOnce(stale()).resolves({});
    await expect(deleteGroup(principal, 'grp_a', 3)).rejects.toMatchObject({ status: 412, message: expect.stringContaining('changed meanwhile') });
    expect(deletes()).toHaveLength(1);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('answers 409 when the retry finds a group run started meanwhile', async () => {
    ddbMock.on(GetCommand).resolvesOnce({ Item: group(3) }).resolves({ Item: group(4, { id: 'grun_1', status: 'preparing' }) });
    ddbMock.on(TransactWriteCommand).rejects(stale());
    await expect(deleteGroup(principal, 'grp_a')).rejects.toMatchObject({ status: 409, message: expect.stringContaining('is running (grun_1); stop it first') });
    expect(deletes()).toHaveLength(1);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('gives up with 409 after a bounded number of races', async () => {
    ddbMock.on(GetCommand).resolves({ Item: group(3) });
    ddbMock.on(TransactWriteCommand).rejects(stale());
    await expect(deleteGroup(principal, 'grp_a')).rejects.toMatchObject({ status: 409, message: 'stream group grp_a is being changed by others; try again' });
    expect(deletes()).toHaveLength(5);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('StartStream retried', () => {
  const input = { groupRunId: groupRun.id, attempt: 1, position: 1, taskToken: 'token-2' };

  it('adopts the run a first attempt started: its callback token is replaced, no second run starts', async () => {
    ddbMock.on(GetCommand, { Key: { PK: `GRUN#${groupRun.id}`, SK: 'START#1#1' } }).resolves({ Item: { runId: 'run_1' } });
    ddbMock.on(GetCommand, { Key: { PK: 'RUN#run_1', SK: 'RUN' } }).resolves({ Item: { id: 'run_1', status: 'running', streamId: 'stm_1' } });
    ddbMock.on(UpdateCommand).resolves({});
    expect(await startGroupStream(input)).toEqual({ runId: 'run_1' });
    const update = ddbMock.commandCalls(UpdateCommand)[0].args[0].input;
    expect(update.Key).toEqual({ PK: 'RUN#run_1', SK: 'RUN' });
    expect(update.ExpressionAttributeNames).toMatchObject({ '#f0': 'callbackToken' });
    expect(update.ExpressionAttributeValues).toMatchObject({ ':v0': 'token-2' });
    // Only while the run is still active: an ended run is answered at once instead.
    expect(update.ConditionExpression).toBe('attribute_exists(PK) AND (#status IN (:running, :paused))');
    expect(ddbMock.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('answers the new token at once when that run already ended (finished: success, failed: failure)', async () => {
    ddbMock.on(GetCommand, { Key: { PK: `GRUN#${groupRun.id}`, SK: 'START#1#1' } }).resolves({ Item: { runId: 'run_1' } });
    ddbMock.on(GetCommand, { Key: { PK: 'RUN#run_1', SK: 'RUN' } }).resolves({ Item: { id: 'run_1', status: 'finished', streamId: 'stm_1' } });
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    await startGroupStream(input);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)[0].args[0].input).toEqual({ taskToken: 'token-2', output: JSON.stringify({ runId: 'run_1', status: 'finished' }) });

    ddbMock.on(GetCommand, { Key: { PK: 'RUN#run_1', SK: 'RUN' } }).resolves({
      Item: { id: 'run_1', status: 'failed', streamId: 'stm_1', error: { code: 'Sluice.RecordFailed', message: 'bad record' } },
    });
    sfnMock.on(SendTaskFailureCommand).resolves({});
    await startGroupStream(input);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input).toMatchObject({ taskToken: 'token-2', error: 'Sluice.RecordFailed', cause: 'bad record' });
  });
});

describe('group.asl.json', () => {
  const spec = stateMachines.find((m) => m.name === 'group')!;
  const text = readFileSync(new URL(`../../infra/statemachines/${spec.file}`, import.meta.url), 'utf8');
  const definition = JSON.parse(text);

  it('substitutes only registered task functions, and every transition lands on a state', () => {
    const substitutions = [...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    expect(new Set(substitutions)).toEqual(new Set(Object.keys(spec.tasks)));
    const targets: string[] = [];
    for (const state of Object.values<any>(definition.States)) {
      if (state.Next) targets.push(state.Next);
      if (state.Default) targets.push(state.Default);
      for (const choice of state.Choices ?? []) targets.push(choice.Next);
      for (const c of state.Catch ?? []) targets.push(c.Next);
    }
    for (const target of targets) expect(definition.States).toHaveProperty(target);
  });

  it('never retries StartStream on a failed stream run (Sluice.Transient is what a run that gave up reports)', () => {
    const retried = definition.States.StartStream.Retry.flatMap((r: any) => r.ErrorEquals);
    expect(retried).not.toContain('Sluice.Transient');
    expect(retried).not.toContain('States.ALL');
    expect(definition.States.StartStream.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
  });
});
