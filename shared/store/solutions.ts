import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { cancellationReasons } from './errors.ts';
import { queryPage, type Item } from './query.ts';
import type { Page } from './pagination.ts';

export interface Solution {
  id: string;
  name: string;
  homeId: number;
  createdAt: string;
}

const solutionKey = (id: string) => ({ PK: `SOL#${id}`, SK: 'SOL' });
const homeKey = (homeId: number) => ({ PK: `HOME#${homeId}`, SK: 'HOME' });

const toSolution = (item: Item): Solution => ({ id: item.id, name: item.name, homeId: item.homeId, createdAt: item.createdAt });

/** Hands out the next integer of a named counter (Domo ids, MODE homeIds, ...). */
export async function nextCounterValue(counter: string): Promise<number> {
  const result = await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { PK: 'COUNTER', SK: counter },
      UpdateExpression: 'ADD #value :one',
      ExpressionAttributeNames: { '#value': 'value' },
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(result.Attributes?.value);
}

/**
 * Creates a solution and its homeId alias in one transaction. `homeId` is
 * given only by the local runtime's bootstrap (the default solution is home 1).
 */
export async function putSolution(solution: Solution): Promise<boolean> {
  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: tableName(),
              Item: { ...solutionKey(solution.id), GSI1PK: 'SOLUTIONS', GSI1SK: solution.id, type: 'solution', ...solution },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          {
            Put: {
              TableName: tableName(),
              Item: { ...homeKey(solution.homeId), type: 'home', solutionId: solution.id },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
        ],
      }),
    );
    return true;
  } catch (error) {
    if (cancellationReasons(error)?.includes('ConditionalCheckFailed')) return false;
    throw error;
  }
}

export async function getSolution(id: string): Promise<Solution | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: solutionKey(id) }));
  return result.Item ? toSolution(result.Item) : undefined;
}

export async function solutionIdOfHome(homeId: number): Promise<string | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: homeKey(homeId) }));
  return result.Item?.solutionId;
}

export async function listSolutions(limit: number, cursor?: string): Promise<Page<Solution>> {
  const page = await queryPage({ index: 'GSI1', partition: 'SOLUTIONS', limit, cursor });
  return { items: page.items.map(toSolution), nextCursor: page.nextCursor };
}
