import { isDeepStrictEqual } from 'node:util';
import type { Definition, DefinitionNode } from './definition.ts';

/**
 * What changed between two stream definitions: nodes and edges added,
 * removed and changed (with the changed fields), node groups, settings,
 * mode and schedule. Pure, so it is unit-tested without AWS.
 */
export interface NodeRef {
  id: string;
  type: string;
  name?: string;
}

export interface FieldChange {
  path: string;
  from: unknown;
  to: unknown;
}

export interface DefinitionDiff {
  identical: boolean;
  nodes: {
    added: NodeRef[];
    removed: NodeRef[];
    /** `fields` names what differs: `type`, `name`, `config.<key>`. */
    changed: (NodeRef & { fields: string[] })[];
  };
  edges: { added: { from: string; to: string }[]; removed: { from: string; to: string }[] };
  nodeGroups: { added: string[]; removed: string[]; changed: string[] };
  /** Leaf paths under settings, e.g. `settings.limits.numberOfEvents`. */
  settings: { changed: FieldChange[] };
  mode: { changed: boolean; from: string; to: string };
  schedule: { changed: boolean; from: Definition['schedule'] | null; to: Definition['schedule'] | null };
}

const ref = (node: DefinitionNode): NodeRef => (node.name === undefined ? { id: node.id, type: node.type } : { id: node.id, type: node.type, name: node.name });

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Leaf paths where two JSON values differ; arrays compare as a whole. */
export function changedPaths(a: unknown, b: unknown, prefix: string): FieldChange[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (!isPlainObject(a) || !isPlainObject(b)) return [{ path: prefix, from: a ?? null, to: b ?? null }];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.flatMap((key) => changedPaths(a[key], b[key], prefix ? `${prefix}.${key}` : key));
}

function nodeFields(a: DefinitionNode, b: DefinitionNode): string[] {
  const fields: string[] = [];
  if (a.type !== b.type) fields.push('type');
  if (a.name !== b.name) fields.push('name');
  const configKeys = [...new Set([...Object.keys(a.config ?? {}), ...Object.keys(b.config ?? {})])].sort();
  for (const key of configKeys) {
    if (!isDeepStrictEqual(a.config?.[key], b.config?.[key])) fields.push(`config.${key}`);
  }
  return fields;
}

const edgeKey = (edge: { from: string; to: string }) => `${edge.from}\u0000${edge.to}`;

export function diffDefinitions(from: Definition, to: Definition): DefinitionDiff {
  const before = new Map(from.nodes.map((node) => [node.id, node]));
  const after = new Map(to.nodes.map((node) => [node.id, node]));
  const nodes: DefinitionDiff['nodes'] = {
    added: to.nodes.filter((node) => !before.has(node.id)).map(ref),
    removed: from.nodes.filter((node) => !after.has(node.id)).map(ref),
    changed: to.nodes
      .filter((node) => before.has(node.id))
      .map((node) => ({ ...ref(node), fields: nodeFields(before.get(node.id)!, node) }))
      .filter((change) => change.fields.length > 0),
  };

  const edgesBefore = new Set(from.edges.map(edgeKey));
  const edgesAfter = new Set(to.edges.map(edgeKey));
  const edges: DefinitionDiff['edges'] = {
    added: to.edges.filter((edge) => !edgesBefore.has(edgeKey(edge))).map(({ from: f, to: t }) => ({ from: f, to: t })),
    removed: from.edges.filter((edge) => !edgesAfter.has(edgeKey(edge))).map(({ from: f, to: t }) => ({ from: f, to: t })),
  };

  const groupsBefore = new Map(from.nodeGroups.map((group) => [group.id, group]));
  const groupsAfter = new Map(to.nodeGroups.map((group) => [group.id, group]));
  const nodeGroups: DefinitionDiff['nodeGroups'] = {
    added: [...groupsAfter.keys()].filter((id) => !groupsBefore.has(id)),
    removed: [...groupsBefore.keys()].filter((id) => !groupsAfter.has(id)),
    changed: [...groupsAfter.keys()].filter((id) => groupsBefore.has(id) && !isDeepStrictEqual(groupsBefore.get(id), groupsAfter.get(id))),
  };

  const settings = { changed: changedPaths(from.settings, to.settings, 'settings') };
  const mode = { changed: from.mode !== to.mode, from: from.mode, to: to.mode };
  const schedule = {
    changed: !isDeepStrictEqual(from.schedule ?? null, to.schedule ?? null),
    from: from.schedule ?? null,
    to: to.schedule ?? null,
  };

  const identical =
    nodes.added.length + nodes.removed.length + nodes.changed.length === 0 &&
    edges.added.length + edges.removed.length === 0 &&
    nodeGroups.added.length + nodeGroups.removed.length + nodeGroups.changed.length === 0 &&
    settings.changed.length === 0 &&
    !mode.changed &&
    !schedule.changed;
  return { identical, nodes, edges, nodeGroups, settings, mode, schedule };
}

/** Ids of nodes that `from` has and `to` lacks: what an overwrite would delete. */
export function droppedNodeIds(from: Definition, to: Definition): string[] {
  const kept = new Set(to.nodes.map((node) => node.id));
  return from.nodes.filter((node) => !kept.has(node.id)).map((node) => node.id);
}
