import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceExistsException, ResourceNotFoundException, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '#shared/model/principal.ts';
import { connectionParamsById, streamsUsingConnection, updateConnection } from '#shared/services/connections.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);

const SOLUTION = 'sol_01ARZ3NDEKTSV4RRFFQ69G5FAV';
const CONN = 'conn_01ARZ3NDEKTSV4RRFFQ69G5FAV';
const definition = (connectionId?: string) => ({
  mode: 'batch',
  nodes: connectionId ? [{ id: 'src', type: 'table-source', config: { connectionId, tables: [{ name: 't' }] } }] : [{ id: 'in', type: 'http-collector', config: {} }],
  edges: [],
  nodeGroups: [],
  settings: {},
});
const streamItem = (id: string, extra: Record<string, unknown> = {}) => ({
  PK: `STM#${id}`,
  SK: 'STREAM',
  type: 'stream',
  id,
  solutionId: SOLUTION,
  namespace: 'default',
  name: id,
  description: '',
  definition: definition(),
  revision: 1,
  deployment: null,
  ...extra,
});

describe('streamsUsingConnection', () => {
  beforeEach(() => {
    ddbMock.reset();
    process.env.TABLE_NAME = 'sluice-test';
  });

  it('reads the streams that claimed the connection consistently, not as the lagging index shows them before their claim', async () => {
    const [deployed, written] = ['stm_01ARZ3NDEKTSV4RRFFQ69G5FA1', 'stm_01ARZ3NDEKTSV4RRFFQ69G5FA4'];
    // GSI1 still shows both as they were before the deploy, and the definition write, that claimed the connection.
    ddbMock.on(QueryCommand).resolves({ Items: [streamItem(deployed), streamItem(written)] });
    ddbMock.on(BatchGetCommand).resolves({
      Responses: {
        'sluice-test': [
          streamItem(deployed, { deployment: { phase: 'deployed', version: 'v1', deployedAt: '2026-01-01T00:00:00.000Z' }, deployedConnections: [CONN] }),
          streamItem(written, { definition: definition(CONN), revision: 2 }),
        ],
      },
    });
    const users = await streamsUsingConnection(SOLUTION, CONN, [deployed, written]);
    expect(users.map((stream) => stream.id)).toEqual([deployed, written]);
    // One consistent read of both claimers.
    expect(ddbMock.commandCalls(BatchGetCommand).map((call) => call.args[0].input.RequestItems!['sluice-test'].ConsistentRead)).toEqual([true]);
  });

  it('counts the deployed version only while deployed, and still finds streams that never claimed (from the index)', async () => {
    const undeployed = 'stm_01ARZ3NDEKTSV4RRFFQ69G5FA2';
    const legacy = 'stm_01ARZ3NDEKTSV4RRFFQ69G5FA3';
    ddbMock.on(QueryCommand).resolves({ Items: [streamItem(legacy, { definition: definition(CONN) })] });
    ddbMock.on(BatchGetCommand).resolves({
      Responses: { 'sluice-test': [streamItem(undeployed, { deployment: { phase: 'undeployed', version: 'v1', deployedAt: '2026-01-01T00:00:00.000Z' }, deployedConnections: [CONN] })] },
    });
    const users = await streamsUsingConnection(SOLUTION, CONN, [undeployed]);
    expect(users.map((stream) => stream.id)).toEqual([legacy]);
  });
});

describe('connection passwords (versions of the connection secret)', () => {
  const secretsMock = mockClient(SecretsManagerClient);
  const principal = { keyId: 'key_1', solutionId: SOLUTION, scopes: ['admin'] } as Principal;
  const connectionItem = {
    PK: `CONN#${CONN}`, SK: 'CONNECTION', type: 'connection', connectionType: 'postgresql', id: CONN, solutionId: SOLUTION, name: 'db', host: 'db.internal', port: 5432,
    database: 'app', username: 'app', ssl: false, options: {}, secretRef: `sluice/${SOLUTION}/connections/${CONN}`, secretVersion: 'v-1', revision: 1, createdAt: 'x', updatedAt: 'x',
  };
  const input = { name: 'db', type: 'postgresql', host: 'db.internal', port: 5432, database: 'app', username: 'app', password: 'new-password', ssl: false, options: {} } as never;

  beforeEach(() => {
    ddbMock.reset();
    secretsMock.reset();
    process.env.TABLE_NAME = 'sluice-test';
    ddbMock.on(GetCommand).resolves({ Item: connectionItem });
  });

  it('a new password is written first, as a pending version, the item update points at it, and only then it becomes current', async () => {
    secretsMock.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', $metadata: {} }));
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'v-2' });
    secretsMock.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { 'v-1': ['AWSCURRENT'], 'v-2': ['AWSPENDING'] } });
    ddbMock.on(UpdateCommand).resolves({});
    const updated = await updateConnection(principal, CONN, input, 1);
    expect(updated).toMatchObject({ revision: 2, secretVersion: 'v-2' });
    const update = ddbMock.commandCalls(UpdateCommand)[0].args[0].input;
    expect(Object.values(update.ExpressionAttributeValues ?? {})).toContain('v-2');
    // Staged, so the current version (read by connections written before versions were recorded) does not move yet.
    expect(secretsMock.commandCalls(PutSecretValueCommand)[0].args[0].input.VersionStages).toEqual(['AWSPENDING']);
    expect(secretsMock.commandCalls(PutSecretValueCommand)[0].calledBefore(ddbMock.commandCalls(UpdateCommand)[0])).toBe(true);
    const promoted = secretsMock.commandCalls(UpdateSecretVersionStageCommand);
    expect(promoted.map((call) => call.args[0].input)).toEqual([{ SecretId: connectionItem.secretRef, VersionStage: 'AWSCURRENT', MoveToVersionId: 'v-2', RemoveFromVersionId: 'v-1' }]);
    expect(ddbMock.commandCalls(UpdateCommand)[0].calledBefore(promoted[0])).toBe(true);
  });

  it('a refused item update leaves the current version where it was', async () => {
    secretsMock.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', $metadata: {} }));
    secretsMock.on(PutSecretValueCommand).resolves({ VersionId: 'v-2' });
    ddbMock.on(UpdateCommand).rejects(Object.assign(new Error('failed'), { name: 'ConditionalCheckFailedException' }));
    await expect(updateConnection(principal, CONN, input, 1)).rejects.toThrow(/being changed by others/);
    expect(secretsMock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    // The retries reuse the one version written.
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(5);
    expect(secretsMock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
  });

  it('a failed secret write changes nothing: the item keeps its revision and its version', async () => {
    secretsMock.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', $metadata: {} }));
    secretsMock.on(PutSecretValueCommand).rejects(new Error('Secrets Manager is down'));
    await expect(updateConnection(principal, CONN, input, 1)).rejects.toThrow(/Secrets Manager is down/);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('a secret a PUT re-created after a concurrent delete removed the connection is deleted again, and the PUT is a 404', async () => {
    // Read before the delete; the delete then removed the item and its secret, so CreateSecret succeeds.
    ddbMock.on(GetCommand).resolvesOnce({ Item: connectionItem }).resolves({});
    secretsMock.on(CreateSecretCommand).resolves({ VersionId: 'v-new' });
    ddbMock.on(UpdateCommand).rejects(Object.assign(new Error('failed'), { name: 'ConditionalCheckFailedException' }));
    await expect(updateConnection(principal, CONN, input, 1)).rejects.toMatchObject({ code: 'not_found' });
    expect(secretsMock.commandCalls(DeleteSecretCommand).map((call) => call.args[0].input.SecretId)).toEqual([connectionItem.secretRef]);
  });

  it('a version the item points at that is gone from its secret says to set the password again', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'no such version', $metadata: {} }));
    secretsMock.on(DescribeSecretCommand).resolves({ Name: connectionItem.secretRef });
    await expect(connectionParamsById(SOLUTION, CONN)).rejects.toThrow(/version v-1 of secret .* is gone from Secrets Manager: set it again with a PUT of the connection that carries its password/);
    // A secret that is gone altogether is no password, as before.
    secretsMock.on(DescribeSecretCommand).rejects(new ResourceNotFoundException({ message: 'no such secret', $metadata: {} }));
    expect((await connectionParamsById(SOLUTION, CONN)).password).toBeUndefined();
  });

  it('the engine reads the version the item points at, not whatever is current', async () => {
    secretsMock.on(GetSecretValueCommand, { SecretId: connectionItem.secretRef }).resolves({ SecretString: JSON.stringify({ password: 'written-by-a-refused-change' }) });
    secretsMock.on(GetSecretValueCommand, { SecretId: connectionItem.secretRef, VersionId: 'v-1' }).resolves({ SecretString: JSON.stringify({ password: 'in-use' }) });
    expect((await connectionParamsById(SOLUTION, CONN)).password).toBe('in-use');
  });
});
