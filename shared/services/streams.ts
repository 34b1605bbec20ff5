import * as z from 'zod/mini';
import { lazySchema } from '../model/validation.ts';
import { onStreamDeleted } from './deployment-hooks.ts';
import { connectionIdsOf, connectionReferences, validateDefinition, nodeNames, type Definition } from '../model/definition.ts';
import { conflict, invalid, notFound, preconditionFailed, tooLarge, type ErrorDetail } from '../model/errors.ts';
import { newId } from '../model/ids.ts';
import { isAdmin, type Principal } from '../model/principal.ts';
import type { Page } from '../store/pagination.ts';
import { dropDeletedStream, getGroupRecord, groupIdsOfStream, type GroupRecord } from '../store/groups.ts';
import { logger } from '../http/logger.ts';
import { claimConnection, releaseConnection } from '../store/connections.ts';
import { referenceOwners } from '../store/references.ts';
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

/**
 * A stream write claims each connection its definition names in its own
 * transaction (at most 100 items, 3 of them the stream and its name claim):
 * 20 distinct connections is far more than a pipeline needs and far below that.
 */
export const MAX_STREAM_CONNECTIONS = 20;

async function checkedDefinition(definition: unknown): Promise<Definition> {
  const validated = await validateDefinition(definition ?? {});
  const size = Buffer.byteLength(JSON.stringify(validated));
  if (size > MAX_DEFINITION_BYTES) throw tooLarge(`the definition is ${size} bytes; at most ${MAX_DEFINITION_BYTES} are accepted`);
  const connections = connectionIdsOf(validated).length;
  if (connections > MAX_STREAM_CONNECTIONS) {
    const message = `the definition names ${connections} distinct connections; a stream may use at most ${MAX_STREAM_CONNECTIONS}`;
    throw invalid(message, [{ path: 'definition.nodes', message }]);
  }
  return validated;
}

/**
 * The transaction items with which a write of `stream` claims every connection
 * its definition names (store/connections.ts claimConnection): each must exist
 * in the stream's solution, and a connection delete or type change racing the
 * write fails on the claim (or the write fails on the missing connection).
 */
const connectionClaims = (stream: StreamRecord) => connectionIdsOf(stream.definition).map((id) => claimConnection(id, stream.solutionId, stream.id));

/**
 * The 400 for a write whose claim `refused` (an index into connectionClaims)
 * failed: one detail per node naming a connection missing from the solution,
 * looked up again so that every one is named, not only the first refused.
 */
async function unknownConnections(stream: StreamRecord, refused: number): Promise<ReturnType<typeof invalid>> {
  const references = connectionReferences(stream.definition);
  const owners = await referenceOwners(references.map((ref) => ({ kind: 'connection' as const, id: ref.connectionId })));
  let missing = references.filter((ref) => owners.get(`connection:${ref.connectionId}`) !== stream.solutionId);
  if (missing.length === 0) missing = references.filter((ref) => ref.connectionId === connectionIdsOf(stream.definition)[refused]);
  const details: ErrorDetail[] = missing.map((ref) => ({ path: ref.path, message: `connection ${ref.connectionId} does not exist in this solution` }));
  return invalid(`${details[0].message} (${details[0].path})`, details);
}

/**
 * Takes the stream out of the `usedBy` of connections it no longer names (best
 * effort: an id left behind reads as a stream that does not use the connection).
 * `whileAt`: the stream's revision that dropped them (absent once it is deleted).
 */
async function releaseConnections(streamId: string, connectionIds: string[], whileAt?: number): Promise<void> {
  await Promise.all(
    connectionIds.map((connectionId) =>
      releaseConnection(connectionId, streamId, whileAt).catch((error: unknown) =>
        logger.warn('a connection keeps a claim of a stream that no longer names it', { streamId, connectionId, error: String(error) }),
      ),
    ),
  );
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
 * Creates a stream, claiming the connections its definition names in the same
 * transaction (connectionClaims), so a connection delete racing the create
 * cannot leave the stream pointing at nothing: one of the two fails. A
 * connection missing from the solution is a 400 naming the node.
 */
export async function createStream(
  principal: Principal,
  input: z.output<ReturnType<typeof streamInput>>,
  options: { solutionId?: string; faces?: Record<string, unknown> } = {},
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
  const outcome = await insertStream(stream, connectionClaims(stream));
  if (outcome === 'name-taken') throw conflict(`a stream named ${input.name} already exists in namespace ${input.namespace}`);
  if (outcome !== 'ok') throw await unknownConnections(stream, outcome.refused);
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
 *
 * A write that sets the definition claims every connection it names, as a
 * create does (a claim already held is claimed again: harmless); connections
 * the previous definition named and this one does not are released after it.
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
    const setsDefinition = changes.definition !== undefined;
    const outcome = await replaceStream(current, next, setsDefinition ? connectionClaims(next) : []);
    if (outcome === 'ok') {
      if (setsDefinition) {
        const named = new Set(connectionIdsOf(next.definition));
        await releaseConnections(id, connectionIdsOf(current.definition).filter((connectionId) => !named.has(connectionId)), next.revision);
      }
      return next;
    }
    if (outcome === 'name-taken') throw conflict(`a stream named ${next.name} already exists in namespace ${next.namespace}`);
    if (typeof outcome === 'object') throw await unknownConnections(next, outcome.refused);
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
 * start, delete) makes the delete read again, a few times. Afterwards the
 * connections it named forget its claim; every face deletes through here.
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
    await releaseConnections(id, connectionIdsOf(stream.definition));
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
