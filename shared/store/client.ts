import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The one DynamoDB document client of a Lambda. The endpoint comes from the
 * SDK's standard AWS_ENDPOINT_URL_DYNAMODB variable, so the same code talks to
 * DynamoDB Local and to AWS.
 */
// Pure, so a bundle that never sends through it does not construct it (docs/decisions.md, "Cold start").
export const ddb = /* @__PURE__ */ DynamoDBDocumentClient.from(/* @__PURE__ */ new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
});

export function tableName(): string {
  const name = process.env.TABLE_NAME;
  if (!name) throw new Error('TABLE_NAME is not set');
  return name;
}
