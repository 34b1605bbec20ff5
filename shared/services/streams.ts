import * as z from 'zod/mini';
import { lazySchema } from '../model/validation.ts';
import { onStreamDeleted } from './deployment-hooks.ts';
import { validateDefinition, nodeNames, type Definition } from '../model/definition.ts';
import { conflict, invalid, notFound, preconditionFailed, tooLarge } from '../model/errors.ts';
import { newId } from '../model/ids.ts';
import { isAdmin, type Principal } from '../model/principal.ts';
import type { Page } from '../store/pagination.ts';
import { dropDeletedStream, getGroupRecord, groupIdsOfStream, type GroupRecord } from '../store/groups.ts';
import { logger } from '../http/logger.ts';
import { claimConnection } from '../store/connections.ts';
import {
  getStreamRecord,
  insertStream,
  listStreamRecords,
  removeStream,
  replaceStream,
  type StreamRecord,
} from '../store/streams.ts';

/** Stream names are path segments in the MODE face, so no slashes. */
export const streamName = /* @__PURE__ */ lazySchema(() => z.string().check(z.trim(), z.minLength(1, 'name is required'), z.maxLength(128), z.regex(/^[^/\\?#]+$/, 'name cannot contain / \\ ? or #')));
export const namespaceName = /* @__PURE__ */ lazySchema(() => z.string().check(z.trim(), z.minLength(1), z.maxLength(64), z.regex(/^[A-Za-z0-9._-]+$/, 'namespace is letters, digits, ., _ or -')));

export const streamInput = /* @__PURE__ */ lazySchema(() =>
  z.object({
    name: streamName(),
    namespace: z._default(namespaceName(), 'default'),
    description: z._default(z.string().check(z.maxLength(4096)), ''),
    definition: z.optional(z.unknown()),
  }),
);
export type StreamInput = z.input<ReturnType<typeof streamInput>>;

/** A definition item stays far below DynamoDB's 400 KB item limit. */
const MAX_DEFINITION_BYTES = 300 * 1024;

async function checkedDefinition(definition: unknown): Promise<Definition> {
  const validated = await validateDefinition(definition ?? {});
  const size = Buffer.byteLength(JSON.stringify(validated));
  if (size > MAX_DEFINITION_BYTES) throw tooLarge(`the definition is ${size} bytes; at most ${MAX_DEFINITION_BYTES} are accepted`);
  return validated;
}

/** The solution a call acts on: the key's own, or the one an admin names. */
export function solutionFor(principal: Principal, requested?: string): string {
  return requested && isAdmin(principal) ? requested : principal.solutionId;
}

/** Reads a stream of the caller's solution; another solution's stream does not exist for it. */
export async function getStream(principal: Principal, id: string): Promise<StreamRecord> {
  const stream = await getStreamRecord(id);
  if (!stream || (stream.solutionId !== principal.solutionId && !isAdmin(principal))) throw notFound(`stream ${id}`);
  return stream;
}

/**
 * `claimConnections`: connections the stream must find in its solution as it
 * is written, claimed in the same transaction (store/connections.ts), so a
 * connection delete racing the create cannot leave the stream pointing at
 * nothing: one of the two fails. Native streams do not claim (their
 * connections are checked at deploy); DBConvert configurations do.
 */
export async function createStream(
  principal: Principal,
  input: z.output<ReturnType<typeof streamInput>>,
  options: { solutionId?: string; faces?: Record<string, unknown>; claimConnections?: string[] } = {},
): Promise<StreamRecord> {
  const now = new Date().toISOString();
  const stream: StreamRecord = {
    id: newId('stream'),
    solutionId: solutionFor(principal, options.solutionId),
    namespace: input.namespace,
    name: input.name,
    description: input.description,
    definition: await checkedDefinition(input.definition),
    revision: 1,
    createdAt: now,
    updatedAt: now,
    deployment: null,
    activeRun: null,
    tagCount: 0,
    faces: options.faces,
  };
  const claimed = [...new Set(options.claimConnections ?? [])];
  const outcome = await insertStream(stream, claimed.map((connectionId) => claimConnection(connectionId, stream.solutionId, stream.id)));
  if (outcome === 'name-taken') throw conflict(`a stream named ${input.name} already exists in namespace ${input.namespace}`);
  if (outcome !== 'ok') throw invalid(`connection ${claimed[outcome.refused]} does not exist`);
  return stream;
}

export interface StreamChanges {
  name?: string;
  namespace?: string;
  description?: string;
  definition?: unknown;
  faces?: Record<string, unknown>;
}

/**
 * Applies changes as a new autosaved revision. With If-Match the write is
 * refused (412) unless the stream is still at that revision; without it, a
 * lost race is retried on a fresh read so no write is silently dropped.
 */
export async function updateStream(
  principal: Principal,
  id: string,
  change: (current: StreamRecord) => StreamChanges,
  expectedRevision?: number,
): Promise<StreamRecord> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await getStream(principal, id);
    if (expectedRevision !== undefined && current.revision !== expectedRevision) {
      throw preconditionFailed(`stream ${id} is at revision ${current.revision}, not ${expectedRevision}`);
    }
    const changes = change(current);
    const next: StreamRecord = {
      ...current,
      name: changes.name ?? current.name,
      namespace: changes.namespace ?? current.namespace,
      description: changes.description ?? current.description,
      definition: changes.definition === undefined ? current.definition : await checkedDefinition(changes.definition),
      faces: changes.faces ?? current.faces,
      revision: current.revision + 1,
      updatedAt: new Date().toISOString(),
    };
    const outcome = await replaceStream(current, next);
    if (outcome === 'ok') return next;
    if (outcome === 'name-taken') throw conflict(`a stream named ${next.name} already exists in namespace ${next.namespace}`);
    if (expectedRevision !== undefined) throw preconditionFailed(`stream ${id} changed meanwhile; read it again`);
  }
  throw conflict(`stream ${id} is being changed by others; try again`);
}

/** A delete transaction holds the stream, its name claim, its purge tombstone and two writes per group (DynamoDB: 100 items). */
export const MAX_DELETE_GROUPS = 48;

/**
 * Deletes the stream and takes it out of every group that lists it, in one
 * transaction (store/streams.ts removeStream). Refused (409) while one of
 * those groups has a group run in progress: checked here for the message,
 * and again in the transaction for the race. A group written meanwhile (PUT,
 * start, delete) makes the delete read again, a few times.
 */
export async function deleteStream(principal: Principal, id: string, expectedRevision?: number): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const stream = await getStream(principal, id);
    if (expectedRevision !== undefined && stream.revision !== expectedRevision) {
      throw preconditionFailed(`stream ${id} is at revision ${stream.revision}, not ${expectedRevision}`);
    }
    if (stream.activeRun) throw conflict(`stream ${id} has an active run ${stream.activeRun.id}; stop it first`);
    // Its groups by membership items (PK=STM#{id}, SK=GROUP#{groupId}); a group that no longer lists it (or is gone) has nothing to change.
    const groups = (await Promise.all((await groupIdsOfStream(id)).map((groupId) => getGroupRecord(groupId)))).filter(
      (group): group is GroupRecord => group?.streams.includes(id) ?? false,
    );
    const running = groups.find((group) => group.activeGroupRun);
    if (running) throw conflict(`stream ${id} belongs to stream group ${running.id}, which is running (${running.activeGroupRun!.id}); stop the group first`);
    if (groups.length > MAX_DELETE_GROUPS) {
      throw conflict(`stream ${id} belongs to ${groups.length} stream groups; a delete takes a stream out of at most ${MAX_DELETE_GROUPS}: remove it from some groups first`);
    }
    const outcome = await removeStream(stream, groups);
    if (outcome === 'busy') throw conflict(`stream ${id} has an active run; stop it first`);
    if (outcome === 'stale' && expectedRevision !== undefined) throw preconditionFailed(`stream ${id} changed meanwhile; read it again`);
    if (outcome !== 'ok') continue;
    await dropFromLateGroups(id, groups);
    await onStreamDeleted(stream);
    return;
  }
  throw conflict(`stream ${id} or its stream groups are being changed by others; try again`);
}

/**
 * A group write that added the stream after the memberships above were read
 * is not in the transaction. Its membership item is there now if it
 * committed before the delete; if it committed after, its own check finds
 * the stream gone (services/groups.ts): one of the two sees the other.
 */
async function dropFromLateGroups(id: string, handled: GroupRecord[]): Promise<void> {
  const late = (await groupIdsOfStream(id)).filter((groupId) => !handled.some((group) => group.id === groupId));
  for (const groupId of late) {
    if (!(await dropDeletedStream(groupId, id))) await logger.warn('a deleted stream stays listed in a stream group that kept changing', { streamId: id, groupId });
  }
}

export interface StreamFilters {
  name?: string;
  namespace?: string;
  collector?: string;
  meter?: string;
  aggregationStore?: string;
  status?: string;
}

/** Stream status for list filters and stats: its active run's, else idle. */
export const streamStatus = (stream: StreamRecord) => stream.activeRun?.status ?? 'idle';

const hasNode = (names: string[], wanted?: string) => !wanted || names.some((n) => n.toLowerCase() === wanted.toLowerCase());

export async function listStreams(
  solutionId: string,
  filters: StreamFilters,
  limit: number,
  cursor?: string,
): Promise<Page<StreamRecord>> {
  const nameNeedle = filters.name?.toLowerCase();
  return listStreamRecords(solutionId, limit, cursor, (stream) =>
    (!nameNeedle || stream.name.toLowerCase().includes(nameNeedle)) &&
    (!filters.namespace || stream.namespace === filters.namespace) &&
    (!filters.status || streamStatus(stream) === filters.status.toLowerCase()) &&
    hasNode(nodeNames(stream.definition, 'http-collector'), filters.collector) &&
    hasNode(nodeNames(stream.definition, 'meter'), filters.meter) &&
    hasNode(nodeNames(stream.definition, 'aggregation-store'), filters.aggregationStore),
  );
}
