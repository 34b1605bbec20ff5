import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { nextCounterValue } from './solutions.ts';

/**
 * Domo's integer stream ids: a per-solution counter (`COUNTER` / `domo-stream#{sol}`)
 * and an alias item `PK=DOMO#{sol}#{n}, SK=ALIAS` → streamId. The number is
 * also kept on the stream as `faces.domo.id`.
 */
const aliasKey = (solutionId: string, number: number) => ({ PK: `DOMO#${solutionId}#${number}`, SK: 'ALIAS' });

export const nextDomoStreamNumber = (solutionId: string) => nextCounterValue(`domo-stream#${solutionId}`);

export async function putDomoAlias(solutionId: string, number: number, streamId: string): Promise<void> {
  await ddb.send(
    new PutCommand({
      TableName: tableName(),
      Item: { ...aliasKey(solutionId, number), type: 'domo-alias', streamId, number },
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  );
}

export async function streamIdOfDomo(solutionId: string, number: number): Promise<string | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: aliasKey(solutionId, number), ConsistentRead: true }));
  return result.Item?.streamId;
}

export async function deleteDomoAlias(solutionId: string, number: number): Promise<void> {
  await ddb.send(new DeleteCommand({ TableName: tableName(), Key: aliasKey(solutionId, number) }));
}
