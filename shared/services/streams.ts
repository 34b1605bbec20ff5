import * as z from 'zod/mini';
import { lazySchema } from '../model/validation.ts';
import { onStreamDeleted } from './deployment-hooks.ts';
import { connectionIdsOf, connectionProblem, connectionReferences, connectionUses, validateDefinition, nodeNames, type ConnectionProblem, type Definition } from '../model/definition.ts';
import { conflict, invalid, notFound, preconditionFailed, tooLarge, type ErrorDetail, type SluiceError } from '../model/errors.ts';
import { newId } from '../model/ids.ts';
import { isAdmin, type Principal } from '../model/principal.ts';
import type { Page } from '../store/pagination.ts';
import { dropDeletedStream, groupIdsOfStream, groupKey, toGroupRecord, type GroupRecord } from '../store/groups.ts';
import { batchGetItems } from '../store/batch.ts';
import { logger } from '../http/logger.ts';
import { claimConnection, releaseConnection } from '../store/connections.ts';
import { referencedItems } from '../store/references.ts';
import {
  deployedConnectionsOf,
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
const MAX_STREAM_CONNECTIONS = 20;

/** The problem of a definition naming more connections than a stream may use, if it does. */
export function tooManyConnections(definition: Definition): ErrorDetail | undefined {
  const connections = connectionIdsOf(definition).length;
  if (connections <= MAX_STREAM_CONNECTIONS) return undefined;
  return { path: 'definition.nodes', message: `the definition names ${connections} distinct connections; a stream may use at most ${MAX_STREAM_CONNECTIONS}` };
}

async function checkedDefinition(definition: unknown): Promise<Definition> {
  const validated = await validateDefinition(definition ?? {});
  const size = Buffer.byteLength(JSON.stringify(validated));
  if (size > MAX_DEFINITION_BYTES) throw tooLarge(`the definition is ${size} bytes; at most ${MAX_DEFINITION_BYTES} are accepted`);
  const tooMany = tooManyConnections(validated);
  if (tooMany) throw invalid(tooMany.message, [tooMany]);
  return validated;
}

/**
 * The transaction items with which a write of stream `streamId` (or a deploy
 * of one of its versions) claims every connection `definition` names
 * (store/connections.ts claimConnection): each must exist in the stream's
 * solution and be of a type its nodes accept; of the write and a connection
 * delete or type change racing it, one fails. Undefined when one connection is
 * named by nodes that no connection type serves together (a table-source and
 * an s3-source): no claim of it can succeed.
 */
export function connectionClaims(definition: Definition, solutionId: string, streamId: string): Record<string, unknown>[] | undefined {
  const uses = connectionUses(definition);
  if (uses.some((use) => use.types.length === 0)) return undefined;
  return uses.map(({ connectionId, types }) => claimConnection(connectionId, solutionId, streamId, types));
}

/**
 * What is wrong with the connections a definition names, looked up now (a
 * claim was refused, or cannot succeed): one problem per node naming a
 * connection missing from the solution or of a type the node cannot use, so
 * that every one is named, not only the one the transaction refused first.
 */
async function connectionProblemsOf(solutionId: string, definition: Definition): Promise<ConnectionProblem[]> {
  const references = connectionReferences(definition);
  const found = await referencedItems(references.map((ref) => ({ kind: 'connection' as const, id: ref.connectionId })));
  return references.flatMap((ref) => connectionProblem(ref, solutionId, found.get(`connection:${ref.connectionId}`)) ?? []);
}

/** How a face says that a write's connections were refused (the native 400 names every node's path). */
export type ConnectionRefusal = (problems: ConnectionProblem[]) => SluiceError;

const nativeRefusal: ConnectionRefusal = (problems) => {
  const details: ErrorDetail[] = problems.map(({ path, message }) => ({ path, message }));
  return invalid(`${details[0].message} (${details[0].path})`, details);
};

/** The error for a write of `stream` whose claims were refused (or cannot succeed). */
async function refusedClaims(stream: StreamRecord, refusal: ConnectionRefusal = nativeRefusal): Promise<SluiceError> {
  const problems = await connectionProblemsOf(stream.solutionId, stream.definition);
  // Refused, yet all is well now: a connection changed and changed back meanwhile.
  if (problems.length === 0) return conflict('a connection the definition names changed while the stream was written; try again');
  return refusal(problems);
}

/**
 * Takes the stream out of the `usedBy` of connections it no longer uses (best
 * effort: an id left behind reads as a stream that does not use the
 * connection). `whileStream`: the stream's state after the write that stopped
 * using them (absent once it is deleted).
 */
async function releaseConnections(streamId: string, connectionIds: string[], whileStream?: Pick<StreamRecord, 'revision' | 'deployment'>): Promise<void> {
  await Promise.all(
    connectionIds.map((connectionId) =>
      releaseConnection(connectionId, streamId, whileStream).catch((error: unknown) =>
        logger.warn('a connection keeps a claim of a stream that no longer names it', { streamId, connectionId, error: String(error) }),
      ),
    ),
  );
}

/**
 * After a write that changed what `before` used into what `after` uses (its
 * definition, its deployed version): releases the connections no longer used,
 * conditional on the stream still being as written (`whileStream`).
 */
export async function releaseUnused(
  streamId: string,
  before: string[],
  after: { definition: Definition; deployedConnections: string[] },
  whileStream: Pick<StreamRecord, 'revision' | 'deployment'>,
): Promise<void> {
  const used = new Set([...connectionIdsOf(after.definition), ...after.deployedConnections]);
  const unused = [...new Set(before)].filter((connectionId) => !used.has(connectionId));
  if (unused.length > 0) await releaseConnections(streamId, unused, whileStream);
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
 * connection missing from the solution, or of a type its node cannot use, is a
 * 400 naming the node (`connectionRefusal` phrases it for another face).
 */
export async function createStream(
  principal: Principal,
  input: z.output<ReturnType<typeof streamInput>>,
  options: { solutionId?: string; faces?: Record<string, unknown>; connectionRefusal?: ConnectionRefusal } = {},
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
  const claims = connectionClaims(stream.definition, stream.solutionId, stream.id);
  if (!claims) throw await refusedClaims(stream, options.connectionRefusal);
  const outcome = await insertStream(stream, claims);
  if (outcome === 'name-taken') throw conflict(`a stream named ${input.name} already exists in namespace ${input.namespace}`);
  if (outcome !== 'ok') throw await refusedClaims(stream, options.connectionRefusal);
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
 * the previous definition named and neither this one nor the deployed version
 * does are released after it.
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
    const claims = setsDefinition ? connectionClaims(next.definition, next.solutionId, id) : [];
    if (!claims) throw await refusedClaims(next);
    const outcome = await replaceStream(current, next, claims);
    if (outcome === 'ok') {
      if (setsDefinition) {
        // The deployed version's connections stay claimed (the deployment as read: if it changed since, the release is skipped).
        await releaseUnused(id, connectionIdsOf(current.definition), { definition: next.definition, deployedConnections: deployedConnectionsOf(current) }, next);
      }
      return next;
    }
    if (outcome === 'name-taken') throw conflict(`a stream named ${next.name} already exists in namespace ${next.namespace}`);
    if (outcome === 'refused') throw await refusedClaims(next);
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
 * connections it used (its definition's, its deployed version's) forget its
 * claim; every face deletes through here.
 */
export async function deleteStream(
  principal: Principal,
  id: string,
  options: { expectedRevision?: number; /** The stream as the caller just read it (tenancy checked): the first attempt starts from it. */ read?: StreamRecord } = {},
): Promise<void> {
  const { expectedRevision } = options;
  for (let attempt = 0; attempt < 5; attempt++) {
    const stream = attempt === 0 && options.read ? options.read : await getStream(principal, id);
    if (expectedRevision !== undefined && stream.revision !== expectedRevision) {
      throw preconditionFailed(`stream ${id} is at revision ${stream.revision}, not ${expectedRevision}`);
    }
    if (stream.activeRun) throw conflict(`stream ${id} has an active run ${stream.activeRun.id}; stop it first`);
    // Its groups by membership items (PK=STM#{id}, SK=GROUP#{groupId}); a group that no longer lists it (or is gone) has nothing to change.
    const groups = (await batchGetItems((await groupIdsOfStream(id)).map(groupKey))).map(toGroupRecord).filter((group) => group.streams.includes(id));
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
    await releaseConnections(id, [...new Set([...connectionIdsOf(stream.definition), ...deployedConnectionsOf(stream)])]);
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
