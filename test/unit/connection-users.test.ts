import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { streamsUsingConnection } from '#shared/services/connections.ts';

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
    ddbMock.on(GetCommand, { Key: { PK: `STM#${deployed}`, SK: 'STREAM' } }).resolves({
      Item: streamItem(deployed, { deployment: { phase: 'deployed', version: 'v1', deployedAt: '2026-01-01T00:00:00.000Z' }, deployedConnections: [CONN] }),
    });
    ddbMock.on(GetCommand, { Key: { PK: `STM#${written}`, SK: 'STREAM' } }).resolves({ Item: streamItem(written, { definition: definition(CONN), revision: 2 }) });
    const users = await streamsUsingConnection(SOLUTION, CONN, [deployed, written]);
    expect(users.map((stream) => stream.id)).toEqual([deployed, written]);
    expect(ddbMock.commandCalls(GetCommand).map((call) => call.args[0].input.ConsistentRead)).toEqual([true, true]);
  });

  it('counts the deployed version only while deployed, and still finds streams that never claimed (from the index)', async () => {
    const undeployed = 'stm_01ARZ3NDEKTSV4RRFFQ69G5FA2';
    const legacy = 'stm_01ARZ3NDEKTSV4RRFFQ69G5FA3';
    ddbMock.on(QueryCommand).resolves({ Items: [streamItem(legacy, { definition: definition(CONN) })] });
    ddbMock.on(GetCommand).resolves({
      Item: streamItem(undeployed, { deployment: { phase: 'undeployed', version: 'v1', deployedAt: '2026-01-01T00:00:00.000Z' }, deployedConnections: [CONN] }),
    });
    const users = await streamsUsingConnection(SOLUTION, CONN, [undeployed]);
    expect(users.map((stream) => stream.id)).toEqual([legacy]);
  });
});
