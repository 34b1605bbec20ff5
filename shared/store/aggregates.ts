import { batchGetItems } from './batch.ts';
import { ddb, tableName } from './client.ts';
import { queryPage, type Item } from './query.ts';
import type { Page } from './pagination.ts';
import { mergePartial, partialValue, type Partial } from '../engine/transforms.ts';

/**
 * Aggregation stores: the keyed aggregates meters write. One item per
 * (solution, store, key): `PK=AGG#{solutionId}#{store}, SK=K#{key}` holding
 * the mergeable partials per aggregate (`{fn, sum, count, min, max}`) and a
 * `rev` that every update checks, so two writers never lose an update.
 */
export const aggregatePartition = (solutionId: string, store: string) => `AGG#${solutionId}#${store}`;
const aggregateKey = (solutionId: string, store: string, key: string) => ({ PK: aggregatePartition(solutionId, store), SK: `K#${key}` });

export interface AggregateUpdate {
  key: string;
  group: Record<string, unknown>;
  partials: Record<string, Partial>;
}

export interface AggregateItem {
  key: string;
  group: Record<string, unknown>;
  values: Record<string, number | null>;
  counts: Record<string, number>;
  updatedAt: string;
}

/**
 * The TransactWriteItems entries that merge `updates` into the store: each
 * item is read (strongly consistent) and written back merged, conditioned on
 * the revision read. A lost race cancels the transaction; the caller prepares
 * again from fresh reads.
 */
export async function prepareAggregateWrites(solutionId: string, store: string, updates: AggregateUpdate[]): Promise<Record<string, unknown>[]> {
  if (updates.length === 0) return [];
  const current = new Map((await batchGetItems(updates.map((u) => aggregateKey(solutionId, store, u.key)))).map((item) => [item.SK as string, item]));
  const now = new Date().toISOString();
  return updates.map((update) => {
    const key = aggregateKey(solutionId, store, update.key);
    const existing = current.get(key.SK);
    const partials: Record<string, Partial> = { ...(existing?.partials ?? {}) };
    for (const [name, partial] of Object.entries(update.partials)) partials[name] = mergePartial(partials[name], partial);
    const rev = (existing?.rev ?? 0) + 1;
    return {
      Put: {
        TableName: tableName(),
        Item: { ...key, type: 'aggregate', store, key: update.key, group: update.group, partials, rev, updatedAt: now },
        ConditionExpression: existing ? '#rev = :rev' : 'attribute_not_exists(PK)',
        ExpressionAttributeNames: existing ? { '#rev': 'rev' } : undefined,
        ExpressionAttributeValues: existing ? { ':rev': existing.rev } : undefined,
      },
    };
  });
}

const toAggregate = (item: Item): AggregateItem => ({
  key: item.key,
  group: item.group ?? {},
  values: Object.fromEntries(Object.entries<Partial>(item.partials ?? {}).map(([name, p]) => [name, partialValue(p)])),
  counts: Object.fromEntries(Object.entries<Partial>(item.partials ?? {}).map(([name, p]) => [name, p.count])),
  updatedAt: item.updatedAt,
});

export async function listAggregates(solutionId: string, store: string, prefix: string | undefined, limit: number, cursor?: string): Promise<Page<AggregateItem>> {
  const page = await queryPage({ partition: aggregatePartition(solutionId, store), sortBeginsWith: `K#${prefix ?? ''}`, limit, cursor });
  return { items: page.items.map(toAggregate), nextCursor: page.nextCursor };
}
