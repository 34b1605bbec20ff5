import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';

/** A second reader: the local runtime's table, read directly, to check what was really stored. */
export function tableReader() {
  const env = inject('runtimeEnv');
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    }),
  );
  return {
    client,
    tableName: env.TABLE_NAME,
    /** Every item whose PK starts with the prefix (test-sized tables only). */
    async itemsWithPkPrefix(prefix: string): Promise<Record<string, any>[]> {
      const items: Record<string, any>[] = [];
      let start: Record<string, any> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({
            TableName: env.TABLE_NAME,
            FilterExpression: 'begins_with(PK, :p)',
            ExpressionAttributeValues: { ':p': prefix },
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        );
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
  };
}
