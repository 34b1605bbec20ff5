import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GSIS, TABLE_KEYS, TTL_ATTRIBUTE } from '#shared/store/table.ts';
import { getSolution, solutionIdOfHome } from '#shared/store/solutions.ts';
import { createSolution } from '#shared/services/solutions.ts';
import { authenticate, createKey } from '#shared/services/keys.ts';
import { SCOPES } from '#shared/model/principal.ts';

/** Creates the table (same keys, GSIs and TTL as the CDK stack) if missing. */
export async function ensureTable(name: string): Promise<void> {
  const client = new DynamoDBClient({});
  const attributes = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]);
  GSIS.forEach((g) => (attributes.add(g.partitionKey), attributes.add(g.sortKey)));
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes].map((attribute) => ({ AttributeName: attribute, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: GSIS.map((g) => ({
          IndexName: g.indexName,
          KeySchema: [
            { AttributeName: g.partitionKey, KeyType: 'HASH' },
            { AttributeName: g.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
    await client.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }));
  }
  client.destroy();
}

export async function ensureBucket(name: string): Promise<void> {
  const client = new S3Client({ forcePathStyle: true });
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } catch (error) {
    const code = (error as { name?: string }).name;
    if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
  }
  client.destroy();
}

/**
 * The default solution (homeId 1) and the admin key: SLUICE_API_KEY when set,
 * otherwise a new key, returned so the caller can print it once.
 */
export async function ensureDefaults(apiKey?: string): Promise<{ solutionId: string; newAdminKey?: string }> {
  let solutionId = await solutionIdOfHome(1);
  if (!solutionId || !(await getSolution(solutionId))) {
    try {
      solutionId = (await createSolution('default', 1)).id;
    } catch {
      solutionId = (await solutionIdOfHome(1))!;
    }
  }
  if (apiKey) {
    if (!(await authenticate(apiKey))) await createKey({ solutionId, name: 'admin (SLUICE_API_KEY)', scopes: [...SCOPES], key: apiKey });
    return { solutionId };
  }
  const { key } = await createKey({ solutionId, name: 'admin (local runtime)', scopes: [...SCOPES] });
  return { solutionId, newAdminKey: key };
}
