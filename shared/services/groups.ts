import * as z from 'zod/mini';
import { lazySchema } from '../model/validation.ts';
import { cronExpression } from '../model/definition.ts';
import { conflict, invalid, notFound, preconditionFailed, type ErrorDetail } from '../model/errors.ts';
import { newId } from '../model/ids.ts';
import { isAdmin, type Principal } from '../model/principal.ts';
import {
  dropDeletedStream,
  getGroupRecord,
  insertGroup,
  listGroupRecords,
  removeGroup,
  replaceGroup,
  type GroupRecord,
} from '../store/groups.ts';
import { referencedItems } from '../store/references.ts';
import type { Page } from '../store/pagination.ts';
import { startPurge } from '../workflows/purge.ts';
import { armGroupSchedule, disarmGroupSchedule } from './schedules.ts';

/** A group's membership changes in one transaction with the group, so its size is bounded by DynamoDB's 100 items. */
export const MAX_GROUP_STREAMS = 48;

export const groupInput = /* @__PURE__ */ lazySchema(() =>
  z.object({
    name: z.string().check(z.trim(), z.minLength(1), z.maxLength(128)),
    description: z._default(z.string().check(z.maxLength(4096)), ''),
    streams: z.array(z.string().check(z.minLength(1))).check(z.minLength(1, 'a group needs at least one stream'), z.maxLength(MAX_GROUP_STREAMS, `a group holds at most ${MAX_GROUP_STREAMS} streams`), z.refine((ids) => new Set(ids).size === ids.length, 'a stream can appear only once in a group')),
    schedule: z._default(z.nullable(z.strictObject({ cron: cronExpression(), timezone: z.optional(z.string()) })), null),
  }),
);
export type GroupInput = z.output<ReturnType<typeof groupInput>>;

/** The streams that exist (consistent reads of their solution only, not whole definitions). */
const existingStreams = (ids: string[]) => referencedItems(ids.map((id) => ({ kind: 'stream' as const, id })));

/** Every listed stream exists in the group's solution (checked on every write; Prepare checks again at run time). */
async function checkStreams(solutionId: string, streams: string[]): Promise<void> {
  const found = await existingStreams(streams);
  const details: ErrorDetail[] = [];
  streams.forEach((id, i) => {
    if (found.get(`stream:${id}`)?.solutionId !== solutionId) details.push({ path: `streams[${i}]`, message: `no stream ${id}` });
  });
  if (details.length) throw invalid(`the group lists streams that do not exist: ${details.map((d) => d.message.slice(10)).join(', ')}`, details);
}

/**
 * After a group write: a stream it added that was deleted since
 * checkStreams read it. That delete read the stream's memberships before this
 * write, so its transaction left this group alone; the group drops the
 * stream itself (the delete checks again after its commit: one of the two
 * sees the other). True when the group changed.
 */
async function dropDeletedStreams(groupId: string, added: string[]): Promise<boolean> {
  const found = await existingStreams(added);
  const gone = added.filter((id) => !found.has(`stream:${id}`));
  for (const id of gone) await dropDeletedStream(groupId, id);
  return gone.length > 0;
}

export async function getGroup(principal: Principal, id: string): Promise<GroupRecord> {
  const group = await getGroupRecord(id);
  if (!group || (group.solutionId !== principal.solutionId && !isAdmin(principal))) throw notFound(`stream group ${id}`);
  return group;
}

export async function createGroup(principal: Principal, input: GroupInput): Promise<GroupRecord> {
  await checkStreams(principal.solutionId, input.streams);
  const now = new Date().toISOString();
  const group: GroupRecord = {
    id: newId('group'),
    solutionId: principal.solutionId,
    ...input,
    revision: 1,
    createdAt: now,
    updatedAt: now,
    activeGroupRun: null,
  };
  await insertGroup(group);
  const dropped = await dropDeletedStreams(group.id, group.streams);
  // Armed after the group is recorded; should this fail (5xx), a PUT of the group arms it again.
  if (group.schedule) await armGroupSchedule(group);
  return dropped ? ((await getGroupRecord(group.id)) ?? group) : group;
}

export async function replaceGroupDefinition(principal: Principal, id: string, input: GroupInput, expectedRevision?: number): Promise<GroupRecord> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await getGroup(principal, id);
    if (expectedRevision !== undefined && current.revision !== expectedRevision) {
      throw preconditionFailed(`stream group ${id} is at revision ${current.revision}, not ${expectedRevision}`);
    }
    if (current.activeGroupRun && input.streams.join() !== current.streams.join()) {
      throw conflict(`stream group ${id} is running (${current.activeGroupRun.id}); its streams cannot change until it ends`);
    }
    await checkStreams(current.solutionId, input.streams);
    const next: GroupRecord = { ...current, ...input, revision: current.revision + 1, updatedAt: new Date().toISOString() };
    const outcome = await replaceGroup(current, next);
    if (outcome === 'ok') {
      const dropped = await dropDeletedStreams(id, next.streams.filter((streamId) => !current.streams.includes(streamId)));
      if (next.schedule || current.schedule) await armGroupSchedule(next);
      const stored = await getGroupRecord(id);
      return dropped && stored ? stored : { ...next, activeGroupRun: stored?.activeGroupRun ?? null };
    }
    if (outcome === 'running') throw conflict(`stream group ${id} is running; its streams cannot change until it ends`);
    if (expectedRevision !== undefined) throw preconditionFailed(`stream group ${id} changed meanwhile; read it again`);
  }
  throw conflict(`stream group ${id} is being changed by others; try again`);
}

/**
 * Deletes the group, its memberships and (in the background) its group runs.
 * With If-Match a group changed since that revision is refused (412); without
 * it a lost race (a PUT, a start, a stream delete taking itself out of the
 * list) is retried on a fresh read, a few times.
 */
export async function deleteGroup(principal: Principal, id: string, expectedRevision?: number): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const group = await getGroup(principal, id);
    if (expectedRevision !== undefined && group.revision !== expectedRevision) {
      throw preconditionFailed(`stream group ${id} is at revision ${group.revision}, not ${expectedRevision}`);
    }
    if (group.activeGroupRun) throw conflict(`stream group ${id} is running (${group.activeGroupRun.id}); stop it first`);
    const outcome = await removeGroup(group);
    if (outcome === 'running') throw conflict(`stream group ${id} is running; stop it first`);
    if (outcome === 'stale' && expectedRevision !== undefined) throw preconditionFailed(`stream group ${id} changed meanwhile; read it again`);
    if (outcome !== 'ok') continue;
    if (group.schedule) await disarmGroupSchedule(group.id);
    // Its group runs (with their pins and markers) are removed in the background.
    await startPurge({ groupId: group.id, solutionId: group.solutionId });
    return;
  }
  throw conflict(`stream group ${id} is being changed by others; try again`);
}

export function listGroups(solutionId: string, limit: number, cursor?: string): Promise<Page<GroupRecord>> {
  return listGroupRecords(solutionId, limit, cursor);
}
