import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { UpdateMethod } from '../model/execution.ts';
import { ddb, tableName } from './client.ts';

/**
 * The dataset pointer `PK=STM#{stm}, SK=DATASET`: which immutable CSV object
 * is the current version. Readers follow it; a commit writes the next object
 * first and then moves the pointer in the transaction that ends the
 * execution, so a reader sees the old or the new version, never a mix.
 * `DSVER#{version:010}` items keep the history of versions.
 */
export interface DatasetSchema {
  columns: { name: string; type: string }[];
}

export interface DatasetPointer {
  version: number;
  objectKey?: string;
  rows: number;
  bytes: number;
  schema: DatasetSchema | null;
  updatedAt: string | null;
  updateMethod: UpdateMethod | null;
  executionId?: string;
}

export const datasetKey = (streamId: string) => ({ PK: `STM#${streamId}`, SK: 'DATASET' });
const versionKey = (streamId: string, version: number) => ({ PK: `STM#${streamId}`, SK: `DSVER#${String(version).padStart(10, '0')}` });

export const EMPTY_DATASET: DatasetPointer = { version: 0, rows: 0, bytes: 0, schema: null, updatedAt: null, updateMethod: null };

export async function getDatasetPointer(streamId: string): Promise<DatasetPointer> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: datasetKey(streamId), ConsistentRead: true }));
  const item = result.Item;
  if (!item || !item.version) return { ...EMPTY_DATASET };
  return {
    version: item.version,
    objectKey: item.objectKey,
    rows: item.rows,
    bytes: item.bytes,
    schema: item.schema ?? null,
    updatedAt: item.updatedAt ?? null,
    updateMethod: item.updateMethod ?? null,
    executionId: item.executionId,
  };
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * The transaction items that move the pointer from `previous` to `next`
 * (only if it is still at `previous`) and record the version in the history.
 */
export function flipItems(streamId: string, previousVersion: number, next: DatasetPointer): TransactItem[] {
  return [
    {
      Update: {
        TableName: tableName(),
        Key: datasetKey(streamId),
        UpdateExpression:
          'SET #version = :version, objectKey = :objectKey, #rows = :rows, #bytes = :bytes, #schema = :schema, updatedAt = :updatedAt, updateMethod = :updateMethod, executionId = :executionId',
        ConditionExpression: `${previousVersion === 0 ? '(attribute_not_exists(#version) OR #version = :zero)' : '#version = :previous'}`,
        ExpressionAttributeNames: { '#version': 'version', '#rows': 'rows', '#bytes': 'bytes', '#schema': 'schema' },
        ExpressionAttributeValues: {
          ':version': next.version,
          ':objectKey': next.objectKey,
          ':rows': next.rows,
          ':bytes': next.bytes,
          ':schema': next.schema,
          ':updatedAt': next.updatedAt,
          ':updateMethod': next.updateMethod,
          ':executionId': next.executionId ?? null,
          ...(previousVersion === 0 ? { ':zero': 0 } : { ':previous': previousVersion }),
        },
      },
    },
    {
      Put: {
        TableName: tableName(),
        Item: { ...versionKey(streamId, next.version), type: 'dataset-version', ...next },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
  ];
}
