import { DeleteCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { recordOf } from './items.ts';
import { cancellationReasons, isConditionFailure } from './errors.ts';
import { retryTransactionConflicts } from './retry.ts';
import { deploymentUnchanged, streamKey, type StreamRecord } from './streams.ts';
import { queryPage, type Item } from './query.ts';
import { conditionalUpdate, type Condition } from './update.ts';
import type { Page } from './pagination.ts';
import type { ConnectionType } from '../model/definition.ts';

/**
 * A database or S3 connection: `PK=CONN#{id}, SK=CONNECTION`, listed per
 * solution through GSI1 `SOL#{sol}#CONNECTIONS` (sorted by id, i.e. creation).
 * The password is not here: `secretRef` names its Secrets Manager secret.
 *
 * `usedBy` and `claims` record the streams that claimed the connection: every
 * stream write whose definition names it (services/streams.ts) and every
 * deploy of a version that names it (services/deployments.ts). `usedBy` holds
 * their ids (a string set; an id may outlive its stream's use of the
 * connection, or the stream), `claims` is a counter every claim adds 1 to and
 * nothing ever lowers. A delete, and a replace that changes the type, are
 * conditional on `claims` being what they read, so a stream written between
 * their check and their write makes them fail.
 */
export interface ConnectionRecord {
  id: string;
  solutionId: string;
  name: string;
  type: ConnectionType;
  host: string;
  port: number;
  database: string;
  username: string;
  ssl: boolean | { rejectUnauthorized?: boolean; ca?: string };
  options: Record<string, unknown>;
  /** Secrets Manager secret name holding `{password}`; null when no password was given. */
  secretRef: string | null;
  /**
   * The version of that secret written with this revision (the password in use); null for
   * connections written before versions were recorded, which read the secret's current version.
   */
  secretVersion: string | null;
  revision: number;
  createdAt: string;
  updatedAt: string;
  /** Face-specific attributes (DBConvert `created` etc.), kept as sent. */
  faces?: Record<string, unknown>;
  /** Internal, never answered: see above. Written only by claims (`claimConnection`), never by a replace. */
  usedBy?: Set<string>;
  claims?: number;
}

export const connectionKey = (id: string) => ({ PK: `CONN#${id}`, SK: 'CONNECTION' });
export const connectionsPartition = (solutionId: string) => `SOL#${solutionId}#CONNECTIONS`;

const FIELDS = [
  'id', 'solutionId', 'name', 'type', 'host', 'port', 'database', 'username', 'ssl', 'options', 'secretRef', 'secretVersion',
  'revision', 'createdAt', 'updatedAt', 'faces', 'usedBy', 'claims',
] as const;

export function toConnectionRecord(item: Item): ConnectionRecord {
  return { ...recordOf<ConnectionRecord>(item, FIELDS, { options: {}, secretRef: null, secretVersion: null }), type: item.connectionType };
}

/** The item's `type` is its kind ('connection') as for every item; the connection's own type is `connectionType`. */
const connectionItem = ({ type, ...connection }: ConnectionRecord): Item => ({
  ...connectionKey(connection.id),
  GSI1PK: connectionsPartition(connection.solutionId),
  GSI1SK: connection.id,
  ...connection,
  type: 'connection',
  connectionType: type,
});

export async function insertConnection(connection: ConnectionRecord): Promise<void> {
  const item = connectionItem(connection);
  await ddb.send(new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' }));
}

export async function getConnectionRecord(id: string): Promise<ConnectionRecord | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: connectionKey(id), ConsistentRead: true }));
  return result.Item ? toConnectionRecord(result.Item) : undefined;
}

/** `claims` is what was read (absent when undefined): nothing claimed the connection since. */
const unclaimedSince = (claims: number | undefined) =>
  claims === undefined
    ? { expression: 'attribute_not_exists(claims)', values: {} }
    : { expression: 'claims = :claims', values: { ':claims': claims } };

/**
 * Replaces the settings if the item is still at `previousRevision` (and, given
 * `unclaimed`, nothing claimed it since `claims` was read); false otherwise.
 * Only the settings are written: `usedBy` and `claims` belong to the claims,
 * and a whole-item Put would put back a stale copy.
 */
export async function replaceConnection(next: ConnectionRecord, previousRevision: number, unclaimed?: { claims: number | undefined }): Promise<boolean> {
  const { type, name, host, port, database, username, ssl, options, secretRef, secretVersion, revision, updatedAt, faces } = next;
  const settings: Record<string, unknown> = { connectionType: type, name, host, port, database, username, ssl, options, secretRef, secretVersion, revision, updatedAt };
  if (faces !== undefined) settings.faces = faces;
  const conditions: Condition[] = [{ expression: 'revision = :revision', values: { ':revision': previousRevision } }];
  if (unclaimed) conditions.push(unclaimedSince(unclaimed.claims));
  try {
    await ddb.send(new UpdateCommand(conditionalUpdate(connectionKey(next.id), conditions, settings)));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Deletes the item if it is still at `revision` and nothing claimed it since
 * it was read (`claims` as read); false otherwise.
 */
export async function removeConnection(id: string, revision: number, claims: number | undefined): Promise<boolean> {
  const unclaimed = unclaimedSince(claims);
  try {
    await ddb.send(
      new DeleteCommand({
        TableName: tableName(),
        Key: connectionKey(id),
        ConditionExpression: `revision = :revision AND ${unclaimed.expression}`,
        ExpressionAttributeValues: { ':revision': revision, ...unclaimed.values },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * The transaction item with which a stream write (or a deploy) claims a
 * connection: it must exist in the stream's solution and be of one of `types`
 * (what the nodes naming it accept); it records the stream in `usedBy` and
 * adds 1 to `claims`, which makes a racing delete's or type change's
 * conditional write fail.
 */
export function claimConnection(connectionId: string, solutionId: string, streamId: string, types: readonly string[]) {
  // No type (nodes no one connection can serve) is for the caller to refuse: no claim of it could succeed.
  if (types.length === 0) throw new Error(`a claim of connection ${connectionId} needs at least one type`);
  const typeValues = Object.fromEntries(types.map((type, i) => [`:type${i}`, type]));
  return {
    Update: {
      TableName: tableName(),
      Key: connectionKey(connectionId),
      UpdateExpression: 'ADD claims :one, usedBy :stream',
      ConditionExpression: `attribute_exists(PK) AND solutionId = :solution AND #type IN (${Object.keys(typeValues).join(', ')})`,
      ExpressionAttributeNames: { '#type': 'connectionType' },
      ExpressionAttributeValues: { ':one': 1, ':stream': new Set([streamId]), ':solution': solutionId, ...typeValues },
    },
  };
}

/**
 * Takes a stream out of `usedBy` (best effort; `claims` is never lowered, so a
 * racing delete that read it before still notices). For a stream that still
 * exists, `whileStream` is its state (revision and deployment) after the write
 * that stopped using the connection: the release is skipped if the stream was
 * written or (un)deployed since, since that may have claimed it again.
 */
export async function releaseConnection(connectionId: string, streamId: string, whileStream?: Pick<StreamRecord, 'revision' | 'deployment'>): Promise<void> {
  const release = {
    TableName: tableName(),
    Key: connectionKey(connectionId),
    UpdateExpression: 'DELETE usedBy :stream',
    ConditionExpression: 'attribute_exists(PK)',
    ExpressionAttributeValues: { ':stream': new Set([streamId]) },
  };
  try {
    if (whileStream === undefined) {
      await ddb.send(new UpdateCommand(release));
      return;
    }
    const deployment = deploymentUnchanged(whileStream.deployment);
    await retryTransactionConflicts(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: tableName(),
                Key: streamKey(streamId),
                ConditionExpression: `revision = :revision AND (${deployment.expression})`,
                ExpressionAttributeNames: deployment.names,
                ExpressionAttributeValues: { ':revision': whileStream.revision, ...deployment.values },
              },
            },
            { Update: release },
          ],
        }),
      ),
    );
  } catch (error) {
    if (!isConditionFailure(error) && !cancellationReasons(error)?.includes('ConditionalCheckFailed')) throw error;
  }
}

export async function listConnectionRecords(solutionId: string, limit: number, cursor?: string): Promise<Page<ConnectionRecord>> {
  const page = await queryPage({ index: 'GSI1', partition: connectionsPartition(solutionId), limit, cursor });
  return { items: page.items.map(toConnectionRecord), nextCursor: page.nextCursor };
}
