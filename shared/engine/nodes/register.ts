import { s3, bucketName } from '../../blobs/client.ts';
import { connectionParamsById } from '../../services/connections.ts';
import type { ConnectionParams } from '../../connections/drivers.ts';
import { connectionTypeMismatch, s3SourcePrefix, type ConnectionNodeType } from '../../model/definition.ts';
import { RunConfigurationError } from '../errors.ts';
import { isSluiceError } from '../../model/errors.ts';
import { registerSink, registerSource } from '../registry.ts';
import type { NodeContext } from '../types.ts';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from '../../store/client.ts';
import { isConditionFailure } from '../../store/errors.ts';
import type { BinlogPosition } from './mysql-cdc.ts';
import type { TableSinkConfig } from './table-sink.ts';
import type { TableSource, TableSourceConfig } from './table-source.ts';

/**
 * The database and S3 nodes, registered with the engine's registry
 * (imported once from shared/engine/nodes.ts). Connections are loaded with
 * their secret from Secrets Manager when the pipeline is built. The node
 * modules (and the database drivers behind them) are imported only when a
 * pipeline uses them, so runs of packet and dataset streams do not pay for
 * them at cold start.
 *
 * A connection must be of a type the node accepts (CONNECTION_TYPES_BY_NODE):
 * every stream write and deploy claims its connections on that condition
 * (services/streams.ts), but a version written before that was checked, or a
 * stream deployed before deploys claimed, may still name another type.
 */
const params = async (context: NodeContext, node: { id: string; type: string; config: Record<string, unknown> } = context.node) => {
  const connectionId = String(node.config.connectionId);
  let connection: ConnectionParams;
  try {
    connection = await connectionParamsById(context.stream.solutionId, connectionId);
  } catch (error) {
    // A missing connection fails the run; a throttled or unavailable store is retried like any transient error.
    if (isSluiceError(error)) throw new RunConfigurationError(`node ${node.id}: ${error.message}`);
    throw error;
  }
  const mismatch = connectionTypeMismatch(node.type as ConnectionNodeType, connectionId, connection.type);
  if (mismatch) throw new RunConfigurationError(`node ${node.id}: ${mismatch}`);
  return connection;
};

registerSource('table-source', async (context) => {
  const config = context.node.config as unknown as TableSourceConfig & { connectionId: string };
  const connection = await params(context);
  const { createTableSource, tableSpecs } = await import('./table-source.ts');
  if (context.mode === 'continuous') {
    if (connection.type === 'postgresql') {
      const { createPgCdcSource, slotName } = await import('./pg-cdc.ts');
      return createPgCdcSource(connection, { slot: slotName(context.stream.id, context.node.id), tables: tableSpecs(config) });
    }
    // Otherwise mysql (params checked the type).
    // The binlog position of the stream's first CDC read, kept in the stream's partition (goes with the stream).
    const key = { PK: `STM#${context.stream.id}`, SK: `CDC#${context.node.id}` };
    const anchor = {
      async claim(position: BinlogPosition): Promise<BinlogPosition> {
        try {
          await ddb.send(new PutCommand({ TableName: tableName(), Item: { ...key, type: 'cdc-anchor', position }, ConditionExpression: 'attribute_not_exists(PK)' }));
          return position;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          const stored = await ddb.send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }));
          return stored.Item!.position as BinlogPosition;
        }
      },
    };
    const { createMysqlCdcSource } = await import('./mysql-cdc.ts');
    return createMysqlCdcSource(connection, { tables: tableSpecs(config), anchor, ids: { streamId: context.stream.id, nodeId: context.node.id } });
  }
  return createTableSource(connection, config);
});

registerSink('table-sink', async (context) => {
  const config = context.node.config as unknown as TableSinkConfig & { connectionId: string };
  const connection = await params(context);
  const [{ createTableSink }, { createTableSource }] = await Promise.all([import('./table-sink.ts'), import('./table-source.ts')]);
  // createStructure copies the schema of the table-source feeding this sink, opened once and closed with the sink.
  const upstream = context.upstream.find((node) => node.type === 'table-source');
  let structure: Promise<TableSource> | undefined;
  const describeSource = async (table: string) => {
    if (!upstream) throw new Error(`target table ${table} does not exist and no table-source feeds ${context.node.id} to copy its structure from`);
    structure ??= params(context, upstream).then((p) => createTableSource(p, upstream.config as unknown as TableSourceConfig));
    return (await structure).describe(table);
  };
  const sink = createTableSink(connection, config, { describeSource });
  return {
    ...sink,
    async close() {
      await sink.close?.();
      await structure?.then((source) => source.close?.(), () => undefined);
    },
  };
});

registerSource('s3-source', async (context) => {
  const config = context.node.config as { connectionId?: string; bucket?: string; prefix: string; format: 'ndjson' | 'csv' };
  const { createS3Source } = await import('./s3-source.ts');
  if (config.connectionId) {
    const { s3ClientFor } = await import('../../connections/drivers.ts');
    const connection = await params(context);
    return createS3Source({ client: s3ClientFor(connection), bucket: config.bucket ?? connection.database, prefix: config.prefix, format: config.format });
  }
  // The Sluice bucket: only under the stream's own solution prefix.
  return createS3Source({ client: s3, bucket: bucketName(), prefix: s3SourcePrefix(context.stream.solutionId, config), format: config.format });
});
