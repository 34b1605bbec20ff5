/**
 * `SET #f0 = :v0, #f1 = :v1` for a map of fields, with its names and values:
 * one builder for every "set these attributes" update, so attribute names that
 * are DynamoDB reserved words (status, name, ...) are always aliased.
 */
export function setExpression(set: Record<string, unknown>): {
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
} {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const assignments = Object.entries(set).map(([field, value], i) => {
    names[`#f${i}`] = field;
    values[`:v${i}`] = value;
    return `#f${i} = :v${i}`;
  });
  return { UpdateExpression: `SET ${assignments.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}
