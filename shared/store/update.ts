import { tableName } from './client.ts';

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

/** A condition on an item, with the names and values it uses. */
export interface Condition {
  expression: string;
  values?: Record<string, unknown>;
  names?: Record<string, string>;
}

/** One conditional update: set (and remove) fields where the item exists and every condition holds. */
export function conditionalUpdate(key: Record<string, string>, conditions: Condition[], set: Record<string, unknown>, remove: string[] = []) {
  const { UpdateExpression, ExpressionAttributeNames: names, ExpressionAttributeValues: values } = setExpression(set);
  const removals = remove.map((field, i) => {
    names[`#r${i}`] = field;
    return `#r${i}`;
  });
  for (const condition of conditions) {
    Object.assign(names, condition.names);
    Object.assign(values, condition.values);
  }
  return {
    TableName: tableName(),
    Key: key,
    UpdateExpression: removals.length ? `${UpdateExpression} REMOVE ${removals.join(', ')}` : UpdateExpression,
    ConditionExpression: ['attribute_exists(PK)', ...conditions.map((c) => `(${c.expression})`)].join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

export type ConditionalUpdate = ReturnType<typeof conditionalUpdate>;
