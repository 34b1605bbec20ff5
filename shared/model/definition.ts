import * as z from 'zod/mini';
import { invalid, type ErrorDetail } from './errors.ts';
import { issuesToDetails, lazySchema, parseWith } from './validation.ts';

/** The stream definition graph of API.md "Streams" and its validation. */

export const SOURCE_TYPES = ['http-collector', 'dataset-source', 'table-source', 's3-source'] as const;
export const TRANSFORM_TYPES = ['filter', 'map', 'meter'] as const;
export const SINK_TYPES = ['dataset', 'aggregation-store', 'table-sink', 'packet-sink'] as const;
export const NODE_TYPES = [...SOURCE_TYPES, ...TRANSFORM_TYPES, ...SINK_TYPES] as const;
export type NodeType = (typeof NODE_TYPES)[number];
export type SourceType = (typeof SOURCE_TYPES)[number];

/** EventBridge Scheduler cron: six fields, minutes to year (e.g. `0 2 * * ? *`). */
export const cronExpression = /* @__PURE__ */ lazySchema(() => z.string().check(z.regex(/^\S+( \S+){5}$/, 'cron has six fields: minutes hours day-of-month month day-of-week year'), z.refine((cron) => cron.split(' ').every((field) => /^[0-9A-Za-z*?,/\-#LW]+$/.test(field)), 'cron has an invalid character')));

/**
 * The schemas are built on first use, not at import: building them costs a few
 * milliseconds of cold start that handlers which never validate a definition
 * (reads, lists, runs) should not pay.
 */
function buildSchemas() {
  const onError = z.optional(z.enum(['skip', 'fail']));
  const expression = z.string().check(z.minLength(1, 'an expression is required'));
  const name = z.string().check(z.minLength(1), z.maxLength(128));

  const tableSpec = z.strictObject({
    name: z.string().check(z.minLength(1)),
    query: z.optional(z.string().check(z.minLength(1))),
    operations: z.optional(z.array(z.enum(['insert', 'update', 'delete']))),
  });

  /** Config schema per node type; unknown keys are refused so typos surface. */
  const NODE_CONFIG = {
    'http-collector': z.strictObject({
      format: z._default(z.enum(['ndjson', 'csv', 'json', 'raw']), 'ndjson'),
      columns: z.optional(z.array(z.string().check(z.minLength(1)))),
      onError,
    }),
    'dataset-source': z.strictObject({ streamId: z.optional(z.string().check(z.minLength(1))), onError }),
    'table-source': z.strictObject({ connectionId: z.string().check(z.minLength(1)), tables: z.optional(z.array(tableSpec).check(z.minLength(1))), query: z.optional(z.string().check(z.minLength(1))), onError }).check(z.refine((c) => c.tables || c.query, { message: 'either tables or query is required' })),
    's3-source': z.strictObject({
      connectionId: z.optional(z.string().check(z.minLength(1))),
      bucket: z.optional(z.string().check(z.minLength(3))),
      prefix: z._default(z.string(), ''),
      format: z._default(z.enum(['ndjson', 'csv']), 'ndjson'),
      onError,
    }).check(z.refine((c) => !c.bucket || c.connectionId, {
      message: 'bucket needs a connectionId (without one the source reads the solution\'s own folder of the Sluice bucket)',
      path: ['bucket'],
    })),
    filter: z.strictObject({ expression, onError }),
    map: z.strictObject({ expression, onError }),
    meter: z.strictObject({
      groupBy: z._default(z.array(z.string().check(z.minLength(1))), []),
      aggregates: z.record(
        z.string().check(z.minLength(1)),
        z.strictObject({ fn: z.enum(['sum', 'count', 'min', 'max', 'avg']), field: z.optional(z.string().check(z.minLength(1))) }).check(z.refine((a) => a.fn === 'count' || a.field, { message: 'field is required unless fn is count' })),
      ).check(z.refine((a) => Object.keys(a).length > 0, { message: 'at least one aggregate is required' })),
      onError,
    }),
    dataset: z.strictObject({
      updateMethod: z._default(z.enum(['APPEND', 'REPLACE', 'UPSERT']), 'APPEND'),
      keyColumnNames: z.optional(z.array(z.string().check(z.minLength(1)))),
      onError,
    }).check(z.refine((c) => c.updateMethod !== 'UPSERT' || (c.keyColumnNames?.length ?? 0) > 0, {
      message: 'UPSERT needs keyColumnNames',
      path: ['keyColumnNames'],
    })),
    'aggregation-store': z.strictObject({ onError }),
    'table-sink': z.strictObject({
      connectionId: z.string().check(z.minLength(1)),
      table: z.optional(z.string().check(z.minLength(1))),
      createStructure: z._default(z.boolean(), true),
      truncateTarget: z._default(z.boolean(), false),
      onError,
    }),
    'packet-sink': z.strictObject({ streamId: z.string().check(z.minLength(1)), onError }),
  } satisfies Record<NodeType, z.ZodMiniType>;

  const nodeId = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'node ids are 1 to 64 letters, digits, _ or -'));

  const nodeSchema = z.object({
    id: nodeId,
    type: z.string(),
    name: z.optional(name),
    config: z._default(z.record(z.string(), z.unknown()), {}),
  });

  const definitionSchema = z.object({
    mode: z._default(z.enum(['batch', 'continuous']), 'batch'),
    nodes: z._default(z.array(nodeSchema).check(z.maxLength(200)), []),
    edges: z._default(z.array(z.strictObject({ from: z.string(), to: z.string() })).check(z.maxLength(1000)), []),
    nodeGroups: z._default(z.array(z.strictObject({ id: z.string().check(z.minLength(1)), name: z.optional(z.string()), nodes: z.array(z.string()) })), []),
    settings: z._default(z.object({
      dataBundleSize: z._default(z.number().check(z.int(), z.gte(1), z.lte(10_000)), 500),
      reportingIntervals: z._default(z.strictObject({ source: z._default(z.number().check(z.int(), z.gte(1)), 3), target: z._default(z.number().check(z.int(), z.gte(1)), 3) }), { source: 3, target: 3 }),
      limits: z._default(z.strictObject({ numberOfEvents: z._default(z.number().check(z.int(), z.gte(0)), 0), elapsedTime: z._default(z.number().check(z.int(), z.gte(0)), 0) }), { numberOfEvents: 0, elapsedTime: 0 }),
    }), { dataBundleSize: 500, reportingIntervals: { source: 3, target: 3 }, limits: { numberOfEvents: 0, elapsedTime: 0 } }),
    schedule: z.optional(z.nullable(z.strictObject({ cron: cronExpression(), timezone: z.optional(z.string()) }))),
  });
  /**
   * The offsets each source commits (shared/engine: http-collector, dataset-source,
   * s3-source, table-source and its CDC readers), which GET /v1/streams/{id}/offsets
   * shows and a reset with explicit `offsets` may set.
   */
  const count = z.number().check(z.int(), z.gte(0));
  const SOURCE_OFFSET = {
    'http-collector': z.strictObject({ packet: count, entry: z._default(count, 0) }),
    // byte -1: the dataset changed version since, so the read resumes by row (shared/services/dataset-engine.ts).
    'dataset-source': z.strictObject({ version: count, row: count, byte: z.number().check(z.int(), z.gte(-1)) }),
    's3-source': z.strictObject({ key: z.string(), line: z.optional(count), done: z.optional(z.boolean()) }),
    'table-source': z.strictObject({ table: count, key: z.nullable(z.array(z.unknown())), rows: count }),
  } satisfies Record<SourceType, z.ZodMiniType>;
  /** A table-source of a continuous stream reads the change log: a PostgreSQL LSN or a MySQL binlog position. */
  const CDC_OFFSET = z.union([
    z.strictObject({ lsn: z.string().check(z.regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i, 'an LSN looks like 0/16B3748')) }),
    z.strictObject({ file: z.string().check(z.minLength(1)), position: count }),
  ]);

  return { NODE_CONFIG, definitionSchema, SOURCE_OFFSET, CDC_OFFSET };
}

let built: ReturnType<typeof buildSchemas> | undefined;
const schemas = () => (built ??= buildSchemas());

export type Definition = z.output<ReturnType<typeof buildSchemas>['definitionSchema']>;
export type DefinitionNode = Definition['nodes'][number];

export const isSource = (type: string) => (SOURCE_TYPES as readonly string[]).includes(type);

/**
 * The key prefix an s3-source reads: its `prefix` in the connection's bucket, or, without a
 * connection, under the solution's own folder of the Sluice bucket (never another solution's).
 */
export function s3SourcePrefix(solutionId: string, config: { connectionId?: string; prefix?: string }): string {
  const prefix = config.prefix ?? '';
  return config.connectionId ? prefix : `solutions/${solutionId}/${prefix.replace(/^\/+/, '')}`;
}

/** An explicit offset for a source node, checked against what that source commits; 400 naming `path` otherwise. */
export function parseSourceOffset(node: DefinitionNode, mode: Definition['mode'], value: unknown, path: string): Record<string, unknown> {
  const { SOURCE_OFFSET, CDC_OFFSET } = schemas();
  // `{}`: what a source commits before it has read anything (the beginning).
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return {};
  const schema = node.type === 'table-source' && mode === 'continuous' ? CDC_OFFSET : SOURCE_OFFSET[node.type as SourceType];
  return parseWith(schema, value, path, path);
}
export const isSink = (type: string) => (SINK_TYPES as readonly string[]).includes(type);

/**
 * Validates a definition fully: shape, node configs per type, expressions,
 * edges, acyclicity and reachability. Throws one 400 listing every problem.
 * JSONata is loaded only when a definition has expressions to compile, so
 * handlers that never see one do not pay for it at cold start.
 */
export async function validateDefinition(input: unknown, prefix = 'definition'): Promise<Definition> {
  const { definitionSchema, NODE_CONFIG } = schemas();
  const parsed = definitionSchema.safeParse(input ?? {});
  if (!parsed.success) throw definitionError(issuesToDetails(parsed.error.issues, prefix));
  const definition = parsed.data;
  const details: ErrorDetail[] = [];
  const ids = new Map<string, DefinitionNode>();
  const expressions: { path: string; expression: string }[] = [];

  definition.nodes.forEach((node, i) => {
    const path = `${prefix}.nodes[${i}]`;
    if (ids.has(node.id)) details.push({ path: `${path}.id`, message: `duplicate node id ${node.id}` });
    ids.set(node.id, node);
    if (!(NODE_TYPES as readonly string[]).includes(node.type)) {
      details.push({ path: `${path}.type`, message: `unknown node type ${node.type}; known types: ${NODE_TYPES.join(', ')}` });
      return;
    }
    const config = NODE_CONFIG[node.type as NodeType].safeParse(node.config);
    if (!config.success) {
      details.push(...issuesToDetails(config.error.issues, `${path}.config`));
      return;
    }
    node.config = config.data as Record<string, unknown>;
    if ((node.type === 'filter' || node.type === 'map') && typeof node.config.expression === 'string') {
      expressions.push({ path: `${path}.config.expression`, expression: node.config.expression });
    }
    if (node.type === 'aggregation-store' && !node.name) {
      details.push({ path: `${path}.name`, message: 'an aggregation-store node needs a name (the store it writes)' });
    }
  });

  if (expressions.length > 0) {
    const { default: jsonata } = await import('jsonata');
    for (const { path, expression } of expressions) {
      try {
        jsonata(expression);
      } catch (error) {
        details.push({ path, message: `invalid JSONata: ${(error as Error).message}` });
      }
    }
  }

  const outgoing = new Map<string, string[]>();
  const incoming = new Map<string, number>();
  definition.edges.forEach((edge, i) => {
    const path = `${prefix}.edges[${i}]`;
    const from = ids.get(edge.from);
    const to = ids.get(edge.to);
    if (!from) details.push({ path: `${path}.from`, message: `no node ${edge.from}` });
    if (!to) details.push({ path: `${path}.to`, message: `no node ${edge.to}` });
    if (!from || !to) return;
    if (isSink(from.type)) details.push({ path: `${path}.from`, message: `${edge.from} is a sink and cannot feed other nodes` });
    if (isSource(to.type)) details.push({ path: `${path}.to`, message: `${edge.to} is a source and cannot take input` });
    outgoing.set(edge.from, [...(outgoing.get(edge.from) ?? []), edge.to]);
    incoming.set(edge.to, (incoming.get(edge.to) ?? 0) + 1);
  });

  definition.nodeGroups.forEach((group, g) =>
    group.nodes.forEach((member, i) => {
      if (!ids.has(member)) details.push({ path: `${prefix}.nodeGroups[${g}].nodes[${i}]`, message: `no node ${member}` });
    }),
  );

  const cycle = findCycle([...ids.keys()], outgoing);
  if (cycle) details.push({ path: `${prefix}.edges`, message: `the graph has a cycle: ${cycle.join(' -> ')}` });

  if (!cycle) {
    const reachable = new Set<string>();
    const visit = (id: string) => {
      if (reachable.has(id)) return;
      reachable.add(id);
      for (const next of outgoing.get(id) ?? []) visit(next);
    };
    definition.nodes.filter((n) => isSource(n.type)).forEach((n) => visit(n.id));
    definition.nodes.forEach((node, i) => {
      if (isSink(node.type) && !reachable.has(node.id)) {
        details.push({ path: `${prefix}.nodes[${i}]`, message: `sink ${node.id} is not reachable from any source` });
      }
    });
  }

  if (details.length > 0) throw definitionError(details);
  return definition;
}

function definitionError(details: ErrorDetail[]) {
  const first = details[0];
  return invalid(`the definition is invalid: ${first.path}: ${first.message}`, details);
}

/** A cycle as a list of node ids, or undefined for a DAG (iterative DFS, three colours). */
function findCycle(ids: string[], outgoing: Map<string, string[]>): string[] | undefined {
  const colour = new Map<string, 'grey' | 'black'>();
  for (const root of ids) {
    if (colour.has(root)) continue;
    const stack: { id: string; next: number }[] = [{ id: root, next: 0 }];
    colour.set(root, 'grey');
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      const targets = outgoing.get(frame.id) ?? [];
      if (frame.next >= targets.length) {
        colour.set(frame.id, 'black');
        stack.pop();
        continue;
      }
      const target = targets[frame.next++];
      if (colour.get(target) === 'grey') {
        const path = stack.map((f) => f.id);
        return [...path.slice(path.indexOf(target)), target];
      }
      if (!colour.has(target)) {
        colour.set(target, 'grey');
        stack.push({ id: target, next: 0 });
      }
    }
  }
  return undefined;
}

/** Names of nodes of a type: the "collectors", "meters" and "aggregation stores" of list filters. */
export function nodeNames(definition: Definition, type: NodeType): string[] {
  return definition.nodes.filter((n) => n.type === type && n.name).map((n) => n.name!);
}

/** A table source of a continuous stream: it reads through a change-data-capture slot on its connection's database. */
export interface CdcSource {
  nodeId: string;
  connectionId: string;
}

export function cdcSourcesOf(definition: Definition): CdcSource[] {
  if (definition.mode !== 'continuous') return [];
  return definition.nodes.filter((node) => node.type === 'table-source').map((node) => ({ nodeId: node.id, connectionId: String(node.config.connectionId) }));
}

/** A connection's `type` (docs/connections.md). */
export const CONNECTION_TYPES = ['postgresql', 'mysql', 's3'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];

/**
 * The node types whose `config.connectionId` names a connection of the
 * stream's solution, and the connection types each accepts: the one table of
 * it, for the claims of stream writes and deploys (a claim is conditional on
 * the type) and for the engine's checks when a run builds the node.
 */
export const CONNECTION_TYPES_BY_NODE = {
  'table-source': ['postgresql', 'mysql'],
  'table-sink': ['postgresql', 'mysql'],
  's3-source': ['s3'],
} as const satisfies Partial<Record<NodeType, readonly ConnectionType[]>>;
export type ConnectionNodeType = keyof typeof CONNECTION_TYPES_BY_NODE;

const isConnectionNode = (type: string): type is ConnectionNodeType => Object.hasOwn(CONNECTION_TYPES_BY_NODE, type);
/** 'a' or 'an' before a connection or node type. */
export const article = (word: string) => (word.startsWith('s3') ? 'an' : 'a');

/** Why a node of `nodeType` cannot use a connection of `connectionType`; undefined when it can. */
export function connectionTypeMismatch(nodeType: ConnectionNodeType, connectionId: string, connectionType: string): string | undefined {
  const accepted: readonly string[] = CONNECTION_TYPES_BY_NODE[nodeType];
  if (accepted.includes(connectionType)) return undefined;
  return `connection ${connectionId} is ${article(connectionType)} ${connectionType} connection; ${article(nodeType)} ${nodeType} needs ${accepted.join(' or ')}`;
}

export interface ConnectionReference {
  connectionId: string;
  /** Where the definition names it: `definition.nodes[2].config.connectionId`. */
  path: string;
  /** The node's index in `nodes`, id and type. */
  node: number;
  nodeId: string;
  nodeType: ConnectionNodeType;
}

/** Every connection a definition names, in node order (an id named by two nodes appears twice). */
export function connectionReferences(definition: Definition | undefined): ConnectionReference[] {
  const references: ConnectionReference[] = [];
  (definition?.nodes ?? []).forEach((node, i) => {
    const id = node.config?.connectionId;
    if (isConnectionNode(node.type) && typeof id === 'string' && id) {
      references.push({ connectionId: id, path: `definition.nodes[${i}].config.connectionId`, node: i, nodeId: node.id, nodeType: node.type });
    }
  });
  return references;
}

/** The distinct connection ids a definition names. */
export const connectionIdsOf = (definition: Definition | undefined): string[] => [...new Set(connectionReferences(definition).map((ref) => ref.connectionId))];

/**
 * Each distinct connection a definition names with the connection types that
 * every node naming it accepts: what a claim requires of it. Empty `types`:
 * its nodes want types no one connection has (a table-source and an
 * s3-source on one connection), so no claim of it can succeed.
 */
export function connectionUses(definition: Definition | undefined): { connectionId: string; types: ConnectionType[] }[] {
  const uses = new Map<string, ConnectionType[]>();
  for (const ref of connectionReferences(definition)) {
    const accepted: readonly ConnectionType[] = CONNECTION_TYPES_BY_NODE[ref.nodeType];
    uses.set(ref.connectionId, (uses.get(ref.connectionId) ?? [...accepted]).filter((type) => accepted.includes(type)));
  }
  return [...uses].map(([connectionId, types]) => ({ connectionId, types }));
}

/** What a look-up found of a connection: its solution and type (absent: no such item). */
export interface FoundConnection {
  solutionId: string;
  connectionType?: string;
}

export interface ConnectionProblem extends ConnectionReference {
  problem: 'missing' | 'type';
  /** The connection's type, for a `type` problem. */
  connectionType?: string;
  message: string;
}

/** What is wrong with a node's connection as found in a stream's solution: missing (or another solution's), or of a type the node cannot use. */
export function connectionProblem(ref: ConnectionReference, solutionId: string, found: FoundConnection | undefined): ConnectionProblem | undefined {
  if (found?.solutionId !== solutionId) return { ...ref, problem: 'missing', message: `connection ${ref.connectionId} does not exist in this solution` };
  const mismatch = connectionTypeMismatch(ref.nodeType, ref.connectionId, String(found.connectionType));
  return mismatch ? { ...ref, problem: 'type', connectionType: found.connectionType, message: mismatch } : undefined;
}
