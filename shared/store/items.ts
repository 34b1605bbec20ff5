import type { Item } from './query.ts';

/**
 * A record from a stored item: only the record's own fields (not PK, SK, GSI
 * keys or the item kind), with defaults for fields older items may lack.
 */
export function recordOf<T>(item: Item, fields: readonly string[], defaults: Record<string, unknown> = {}): T {
  const record: Record<string, unknown> = {};
  for (const field of fields) if (item[field] !== undefined) record[field] = item[field];
  for (const [field, value] of Object.entries(defaults)) record[field] ??= value;
  return record as T;
}
