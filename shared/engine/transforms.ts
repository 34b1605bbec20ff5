import type { Expression } from 'jsonata';
import type { DataRecord, NodeContext } from './types.ts';

/**
 * filter, map (JSONata) and meter. A transform sees one bundle's records for
 * its node and reports each record it cannot handle through `fail`.
 */
export interface Transform {
  apply(records: DataRecord[], fail: (record: DataRecord, message: string) => void): Promise<DataRecord[]>;
}

const isObject = (value: unknown): value is DataRecord => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The node's JSONata expression, compiled on first use: JSONata is loaded by a
 * filter or map that runs, not by every bundle that can reach this module
 * (the aggregate store and the stats handlers share the meter code below).
 */
function expressionOf(context: NodeContext): () => Promise<Expression> {
  let compiled: Promise<Expression> | undefined;
  return () => (compiled ??= import('jsonata').then(({ default: jsonata }) => jsonata(String(context.node.config.expression))));
}

export function filterTransform(context: NodeContext): Transform {
  const compiled = expressionOf(context);
  return {
    async apply(records, fail) {
      const expression = await compiled();
      const kept: DataRecord[] = [];
      for (const record of records) {
        try {
          if (await expression.evaluate(record)) kept.push(record);
        } catch (error) {
          fail(record, `filter: ${(error as Error).message}`);
        }
      }
      return kept;
    },
  };
}

export function mapTransform(context: NodeContext): Transform {
  const compiled = expressionOf(context);
  return {
    async apply(records, fail) {
      const expression = await compiled();
      const out: DataRecord[] = [];
      for (const record of records) {
        try {
          const value = await expression.evaluate(record);
          if (value === undefined) fail(record, 'map: the expression produced no value');
          else if (Array.isArray(value)) for (const v of value) out.push(isObject(v) ? v : { value: v });
          else out.push(isObject(value) ? value : { value });
        } catch (error) {
          fail(record, `map: ${(error as Error).message}`);
        }
      }
      return out;
    },
  };
}

export type AggregateFn = 'sum' | 'count' | 'min' | 'max' | 'avg';

/** A mergeable partial aggregate: avg merges through sum and count. */
export interface Partial {
  fn: AggregateFn;
  sum: number;
  count: number;
  min: number | null;
  max: number | null;
}

/** Meter output records carry their mergeable partials here (not a JSON field). */
export const PARTIALS = Symbol.for('sluice.meter.partials');
export const GROUP = Symbol.for('sluice.meter.group');

export interface MeterRecord extends DataRecord {
  [PARTIALS]?: Record<string, Partial>;
  [GROUP]?: { key: string; group: Record<string, unknown> };
}

export const readPath = (record: DataRecord, path: string): unknown =>
  path.split('.').reduce<unknown>((value, part) => (isObject(value) ? value[part] : undefined), record);

export function partialValue(partial: Partial): number | null {
  switch (partial.fn) {
    case 'sum':
      return partial.sum;
    case 'count':
      return partial.count;
    case 'min':
      return partial.min;
    case 'max':
      return partial.max;
    case 'avg':
      return partial.count === 0 ? null : partial.sum / partial.count;
  }
}

export function mergePartial(into: Partial | undefined, add: Partial): Partial {
  if (!into) return { ...add };
  return {
    fn: add.fn,
    sum: into.sum + add.sum,
    count: into.count + add.count,
    min: into.min === null ? add.min : add.min === null ? into.min : Math.min(into.min, add.min),
    max: into.max === null ? add.max : add.max === null ? into.max : Math.max(into.max, add.max),
  };
}

/** The key of a group: its groupBy values, JSON-encoded so any value is unambiguous. */
export const groupKey = (values: unknown[]) => (values.length === 0 ? '*' : values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v ?? null))).join('|'));

export function meterTransform(context: NodeContext): Transform {
  const groupBy = (context.node.config.groupBy as string[] | undefined) ?? [];
  const aggregates = context.node.config.aggregates as Record<string, { fn: AggregateFn; field?: string }>;
  return {
    async apply(records, fail) {
      const groups = new Map<string, { group: Record<string, unknown>; partials: Record<string, Partial> }>();
      for (const record of records) {
        const values: Record<string, number | null> = {};
        let problem: string | undefined;
        for (const [name, spec] of Object.entries(aggregates)) {
          if (spec.fn === 'count') {
            values[name] = spec.field === undefined || readPath(record, spec.field) != null ? 1 : 0;
            continue;
          }
          const raw = readPath(record, spec.field!);
          const number = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
          if (!Number.isFinite(number)) {
            problem = `meter: ${spec.field} is ${raw === undefined ? 'missing' : `not a number (${JSON.stringify(raw)})`}`;
            break;
          }
          values[name] = number;
        }
        if (problem) {
          fail(record, problem);
          continue;
        }
        const groupValues = groupBy.map((field) => readPath(record, field));
        const key = groupKey(groupValues);
        let entry = groups.get(key);
        if (!entry) {
          entry = { group: Object.fromEntries(groupBy.map((field, i) => [field, groupValues[i] ?? null])), partials: {} };
          groups.set(key, entry);
        }
        for (const [name, spec] of Object.entries(aggregates)) {
          const v = values[name]!;
          const add: Partial =
            spec.fn === 'count' ? { fn: 'count', sum: 0, count: v, min: null, max: null } : { fn: spec.fn, sum: v, count: 1, min: v, max: v };
          entry.partials[name] = mergePartial(entry.partials[name], add);
        }
      }
      return [...groups.entries()].map(([key, { group, partials }]) => {
        const out: MeterRecord = { ...group };
        for (const [name, partial] of Object.entries(partials)) out[name] = partialValue(partial);
        Object.defineProperty(out, PARTIALS, { value: partials, enumerable: false });
        Object.defineProperty(out, GROUP, { value: { key, group }, enumerable: false });
        return out;
      });
    },
  };
}
