import * as z from 'zod/mini';
import { lazySchema } from '../model/validation.ts';
import { CONNECTION_TYPES, connectionIdsOf } from '../model/definition.ts';
import { conflict, invalid, notFound, preconditionFailed } from '../model/errors.ts';
import { newId } from '../model/ids.ts';
import { isAdmin, type Principal } from '../model/principal.ts';
import type { Page } from '../store/pagination.ts';
import { queryAll } from '../store/query.ts';
import { batchGetItems } from '../store/batch.ts';
import { deployedConnectionsOf, streamKey, streamsPartition, toStreamRecord, type StreamRecord } from '../store/streams.ts';
import {
  getConnectionRecord,
  insertConnection,
  listConnectionRecords,
  removeConnection,
  replaceConnection,
  type ConnectionRecord,
} from '../store/connections.ts';
import { deleteConnectionSecret, getConnectionSecret, promoteConnectionSecret, putConnectionSecret, type SecretPointer } from '../secrets/client.ts';
import { portOf } from '../connections/defaults.ts';
import { logger } from '../http/logger.ts';
import type { ConnectionParams, PingResult } from '../connections/drivers.ts';

/** The database drivers are loaded only by the calls that connect, not by every connections handler. */
const ping = async (params: ConnectionParams): Promise<PingResult> => (await import('../connections/drivers.ts')).ping(params);

/** `postgresql|mysql|s3` in any casing; `postgres` and `mariadb` are accepted as aliases. */
const connectionType = () =>
  z.pipe(
  z.pipe(
    z.string().check(z.trim()),
    z.transform((t) => {
      const type = t.toLowerCase();
      return type === 'postgres' ? 'postgresql' : type === 'mariadb' ? 'mysql' : type;
    }),
  ),
  z.enum(CONNECTION_TYPES, { message: `type must be ${CONNECTION_TYPES.slice(0, -1).join(', ')} or ${CONNECTION_TYPES.at(-1)}` }),
);

const ssl = () =>
  z.union([
  z.boolean(),
  z.strictObject({ rejectUnauthorized: z.optional(z.boolean()), ca: z.optional(z.string().check(z.maxLength(16_384))) }),
]);

export const connectionInput = /* @__PURE__ */ lazySchema(() =>
  z.object({
  name: z.string().check(z.trim(), z.minLength(1, 'name is required'), z.maxLength(128)),
  type: connectionType(),
  host: z._default(z.string().check(z.trim(), z.maxLength(255)), ''),
  port: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(65_535))),
  database: z._default(z.string().check(z.trim(), z.maxLength(255)), ''),
  username: z._default(z.string().check(z.maxLength(255)), ''),
  /** Write-only. */
  password: z.optional(z.string().check(z.maxLength(4096))),
  ssl: z._default(ssl(), false),
  options: z._default(z.record(z.string(), z.unknown()), {}),
  }),
);
export type ConnectionInput = z.output<ReturnType<typeof connectionInput>>;

function checkInput(input: ConnectionInput): void {
  if (input.type !== 's3') {
    const missing = (['host', 'database', 'username'] as const).filter((f) => !input[f]);
    if (missing.length > 0) {
      throw invalid(`${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required for a ${input.type} connection`, missing.map((path) => ({ path, message: 'required' })));
    }
  } else if (!input.database) {
    throw invalid('database (the bucket name) is required for an s3 connection', [{ path: 'database', message: 'required' }]);
  }
}

/** The public connection object: never the password or its secret reference. */
export function connectionJson(connection: ConnectionRecord) {
  return {
    id: connection.id,
    name: connection.name,
    type: connection.type,
    host: connection.host,
    port: connection.port,
    database: connection.database,
    username: connection.username,
    ssl: connection.ssl,
    options: connection.options,
    hasPassword: connection.secretRef !== null,
    revision: connection.revision,
    createdAt: connection.createdAt,
    updatedAt: connection.updatedAt,
  };
}

export async function getConnection(principal: Principal, id: string): Promise<ConnectionRecord> {
  const connection = await getConnectionRecord(id);
  if (!connection || (connection.solutionId !== principal.solutionId && !isAdmin(principal))) throw notFound(`connection ${id}`);
  return connection;
}

export async function createConnection(
  principal: Principal,
  input: ConnectionInput,
  options: { faces?: Record<string, unknown> } = {},
): Promise<ConnectionRecord> {
  checkInput(input);
  const id = newId('connection');
  const now = new Date().toISOString();
  const solutionId = principal.solutionId;
  // The secret first: a connection item never points at a secret that does not exist.
  const secret = input.password !== undefined ? await putConnectionSecret(solutionId, id, { password: input.password }) : undefined;
  const secretRef = secret?.secretRef ?? null;
  const connection: ConnectionRecord = {
    id,
    solutionId,
    ...settingsOf(input),
    secretRef,
    secretVersion: secret?.secretVersion ?? null,
    revision: 1,
    createdAt: now,
    updatedAt: now,
    faces: options.faces,
  };
  try {
    await insertConnection(connection);
  } catch (error) {
    if (secretRef) await deleteConnectionSecret(secretRef).catch(() => undefined);
    throw error;
  }
  return connection;
}

/** The settings a create or a replace takes from the input (the password goes to the secret, not here). */
function settingsOf(input: ConnectionInput) {
  const { name, type, host, database, username, ssl, options } = input;
  return { name, type, host, port: portOf(input), database, username, ssl, options };
}

export async function listConnections(solutionId: string, limit: number, cursor?: string): Promise<Page<ConnectionRecord>> {
  return listConnectionRecords(solutionId, limit, cursor);
}

/**
 * Replaces a connection's settings. A missing password keeps the stored one;
 * `password: ""` is a password like any other. If-Match is honoured.
 *
 * The type cannot change while a stream uses the connection (409 naming them,
 * as the delete): its nodes and replication state are of that type. Like the
 * delete, that write is conditional on `claims` as read before the check, so a
 * stream claiming the connection meanwhile (every stream write and deploy
 * naming it does) makes it fail and the next attempt sees it. Other settings change
 * whoever uses the connection.
 */
export async function updateConnection(
  principal: Principal,
  id: string,
  input: ConnectionInput,
  expectedRevision?: number,
  options: { faces?: Record<string, unknown> } = {},
): Promise<ConnectionRecord> {
  checkInput(input);
  let secret: SecretPointer | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await getConnection(principal, id);
    if (expectedRevision !== undefined && current.revision !== expectedRevision) {
      throw preconditionFailed(`connection ${id} is at revision ${current.revision}, not ${expectedRevision}`);
    }
    const settings = settingsOf(input);
    const typeChanges = settings.type !== current.type;
    if (typeChanges) {
      const users = await streamsUsingConnection(current.solutionId, id, current.usedBy);
      if (users.length > 0) {
        throw conflict(`connection ${id} is used by ${users.map(userName(id)).join(', ')}; its type cannot change from ${current.type} to ${settings.type} while ${users.length > 1 ? 'they use' : 'it uses'} it`);
      }
    }
    // A new password is a new version of the secret, written once, before the item that then points at it. Until
    // the item write is accepted nothing reads that version, so a refused or failed write never changes the password.
    try {
      if (input.password !== undefined) secret ??= await putConnectionSecret(current.solutionId, id, { password: input.password });
    } catch (error) {
      // Deleted meanwhile (AWS refuses to re-create a secret still being deleted): the connection is gone.
      if (!(await getConnectionRecord(id))) throw notFound(`connection ${id}`);
      throw error;
    }
    const next: ConnectionRecord = {
      ...current,
      ...settings,
      secretRef: secret?.secretRef ?? current.secretRef,
      secretVersion: secret ? secret.secretVersion : current.secretVersion,
      revision: current.revision + 1,
      updatedAt: new Date().toISOString(),
      faces: options.faces ?? current.faces,
    };
    if (await replaceConnection(next, current.revision, typeChanges ? { claims: current.claims } : undefined)) {
      if (secret && !secret.created) {
        await promoteConnectionSecret(secret).catch((error: unknown) =>
          logger.warn('the connection secret version in use was not made current', { connectionId: id, error: String(error) }),
        );
      }
      return next;
    }
    // A secret this write created after a delete removed the connection's would be left over.
    if (secret?.created && !(await getConnectionRecord(id))) {
      await deleteConnectionSecret(secret.secretRef).catch(() => undefined);
      throw notFound(`connection ${id}`);
    }
    // Refused: another write moved the revision (the next read answers 412 under If-Match) or a stream claimed it.
  }
  throw conflict(`connection ${id} is being changed by others; try again`);
}

/** How a stream uses a connection: its current definition names it, or only the version it has deployed; undefined: not at all. */
function useOf(stream: StreamRecord, connectionId: string): 'definition' | 'deployed' | undefined {
  if (connectionIdsOf(stream.definition).includes(connectionId)) return 'definition';
  return deployedConnectionsOf(stream).includes(connectionId) ? 'deployed' : undefined;
}

/**
 * Streams of the solution that use this connection: their definition has a
 * node with this connectionId, or the version they have deployed does (its
 * connections are recorded on the stream at deploy). Each stream that claimed
 * the connection (`claimedBy`, the item's `usedBy`) is read consistently: GSI1
 * may lag a write, showing a stream without it or as it was before its claim.
 * The scan of the solution's streams (GSI1) adds those that never claimed it
 * (written before claims existed).
 */
export async function streamsUsingConnection(solutionId: string, connectionId: string, claimedBy: Iterable<string> = []): Promise<StreamRecord[]> {
  const claimed = new Set(claimedBy);
  const scanned = (await queryAll(streamsPartition(solutionId), undefined, 'GSI1')).map(toStreamRecord).filter((stream) => !claimed.has(stream.id));
  // One consistent BatchGet; a claimer that is gone (deleted since) is not answered and is no user.
  const claimers = (await batchGetItems([...claimed].map(streamKey))).map(toStreamRecord);
  return [...scanned, ...claimers].filter((stream) => stream.solutionId === solutionId && useOf(stream, connectionId));
}

/**
 * A DBConvert configuration is named by its `config_` id (the stream's ulid),
 * any other stream by its id; one that uses the connection only through its
 * deployed version says so (its definition does not show it).
 */
const userName = (connectionId: string) => (stream: StreamRecord) => {
  const name = stream.faces?.dbconvert ? `stream configuration config_${stream.id.slice(4)}` : `stream ${stream.id}`;
  return useOf(stream, connectionId) === 'deployed' ? `${name} (its deployed version ${stream.deployment!.version})` : name;
};

/**
 * 409 while a stream uses the connection (its definition or its deployed
 * version). The delete is conditional on the revision and on the connection's
 * `claims` as read before the check: a stream created, changed or deployed
 * meanwhile to use it (it claims the connection in its own write) makes it
 * fail, and the next attempt sees that stream.
 */
export async function deleteConnection(principal: Principal, id: string, expectedRevision?: number): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const connection = await getConnection(principal, id);
    if (expectedRevision !== undefined && connection.revision !== expectedRevision) {
      throw preconditionFailed(`connection ${id} is at revision ${connection.revision}, not ${expectedRevision}`);
    }
    const users = await streamsUsingConnection(connection.solutionId, id, connection.usedBy);
    if (users.length > 0) throw conflict(`connection ${id} is used by ${users.map(userName(id)).join(', ')}; change or delete ${users.length > 1 ? 'them' : 'it'} first`);
    if (await removeConnection(id, connection.revision, connection.claims)) {
      if (connection.secretRef) await deleteConnectionSecret(connection.secretRef);
      return;
    }
  }
  throw conflict(`connection ${id} is being changed by others; try again`);
}

/** The parameters drivers need, with the password read from Secrets Manager (engine and ping only). */
export async function connectionParams(connection: ConnectionRecord): Promise<ConnectionParams> {
  const secret = connection.secretRef ? await getConnectionSecret(connection.secretRef, connection.secretVersion) : undefined;
  return {
    type: connection.type,
    host: connection.host,
    port: connection.port,
    database: connection.database,
    username: connection.username,
    password: secret?.password,
    ssl: connection.ssl,
    options: connection.options,
  };
}

/** Loads a connection by id for the engine (no principal: the run already passed tenancy checks). */
export async function connectionParamsById(solutionId: string, id: string): Promise<ConnectionParams> {
  const connection = await getConnectionRecord(id);
  if (!connection || connection.solutionId !== solutionId) throw invalid(`connection ${id} does not exist`);
  return connectionParams(connection);
}

export async function pingConnection(principal: Principal, id: string): Promise<PingResult> {
  return ping(await connectionParams(await getConnection(principal, id)));
}

export async function testConnection(input: ConnectionInput): Promise<PingResult> {
  checkInput(input);
  return ping({ ...input, port: portOf(input) });
}
