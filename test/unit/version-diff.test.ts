import { describe, expect, it } from 'vitest';
import { validateDefinition } from '#shared/model/definition.ts';
import { changedPaths, diffDefinitions, droppedNodeIds } from '#shared/model/version-diff.ts';
import { canTransition } from '#shared/model/deployment.ts';
import { tagName } from '#shared/model/versions.ts';
import { copyName } from '#shared/services/imports.ts';

const base = await validateDefinition({
  nodes: [
    { id: 'in', type: 'http-collector', name: 'readings', config: { format: 'ndjson' } },
    { id: 'm', type: 'meter', config: { groupBy: ['account'], aggregates: { kwh: { fn: 'sum', field: 'kwh' } } } },
    { id: 'out', type: 'aggregation-store', name: 'usage' },
  ],
  edges: [
    { from: 'in', to: 'm' },
    { from: 'm', to: 'out' },
  ],
  nodeGroups: [{ id: 'g1', nodes: ['in'] }],
});

const edit = (change: (d: any) => void) => {
  const copy = structuredClone(base);
  change(copy);
  return validateDefinition(copy);
};

describe('diffDefinitions', () => {
  it('finds nothing between a definition and itself, whatever the key order', async () => {
    const reverseKeys = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reverseKeys)
        : value && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]))
          : value;
    const reordered = reverseKeys(base) as typeof base;
    expect(Object.keys(reordered)).toEqual(Object.keys(base).reverse());
    const diff = diffDefinitions(base, reordered);
    expect(diff.identical).toBe(true);
    expect(diff.nodes).toEqual({ added: [], removed: [], changed: [] });
  });

  it('reports added, removed and changed nodes with the changed fields', async () => {
    const next = await edit((d) => {
      d.nodes = d.nodes.filter((n: any) => n.id !== 'out');
      d.nodes.push({ id: 'ds', type: 'dataset', config: {} });
      d.nodes[0].name = 'readings-v2';
      d.nodes[1].config.aggregates.kwh.fn = 'max';
      d.nodes[1].config.onError = 'fail';
      d.edges = [{ from: 'in', to: 'm' }, { from: 'm', to: 'ds' }];
    });
    const diff = diffDefinitions(base, next);
    expect(diff.identical).toBe(false);
    expect(diff.nodes.added).toEqual([{ id: 'ds', type: 'dataset' }]);
    expect(diff.nodes.removed).toEqual([{ id: 'out', type: 'aggregation-store', name: 'usage' }]);
    expect(diff.nodes.changed).toEqual([
      { id: 'in', type: 'http-collector', name: 'readings-v2', fields: ['name'] },
      { id: 'm', type: 'meter', fields: ['config.aggregates', 'config.onError'] },
    ]);
    expect(diff.edges).toEqual({ added: [{ from: 'm', to: 'ds' }], removed: [{ from: 'm', to: 'out' }] });
  });

  it('reports a node whose type changed', async () => {
    const next = await edit((d) => {
      d.nodes[1] = { id: 'm', type: 'filter', config: { expression: 'true' } };
    });
    expect(diffDefinitions(base, next).nodes.changed[0].fields).toEqual(['type', 'config.aggregates', 'config.expression', 'config.groupBy']);
  });

  it('reports settings leaves, mode, schedule and node groups', async () => {
    const next = await edit((d) => {
      d.mode = 'continuous';
      d.settings.limits.numberOfEvents = 10;
      d.settings.dataBundleSize = 20;
      d.schedule = { cron: '0 2 * * ? *' };
      d.nodeGroups = [{ id: 'g1', nodes: ['in', 'm'] }, { id: 'g2', nodes: ['out'] }];
    });
    const diff = diffDefinitions(base, next);
    expect(diff.settings.changed).toEqual([
      { path: 'settings.dataBundleSize', from: 500, to: 20 },
      { path: 'settings.limits.numberOfEvents', from: 0, to: 10 },
    ]);
    expect(diff.mode).toEqual({ changed: true, from: 'batch', to: 'continuous' });
    expect(diff.schedule).toEqual({ changed: true, from: null, to: { cron: '0 2 * * ? *' } });
    expect(diff.nodeGroups).toEqual({ added: ['g2'], removed: [], changed: ['g1'] });
  });

  it('treats a missing and a null schedule as the same', async () => {
    const next = await edit((d) => {
      d.schedule = null;
    });
    expect(diffDefinitions(base, next).identical).toBe(true);
  });
});

describe('helpers', () => {
  it('changedPaths compares arrays whole and objects by leaf', async () => {
    expect(changedPaths({ a: [1, 2], b: { c: 1 } }, { a: [2, 1], b: { c: 1, d: 2 } }, 'x')).toEqual([
      { path: 'x.a', from: [1, 2], to: [2, 1] },
      { path: 'x.b.d', from: null, to: 2 },
    ]);
  });

  it('droppedNodeIds names the nodes an overwrite would delete', async () => {
    const next = await edit((d) => {
      d.nodes = d.nodes.filter((n: any) => n.id === 'in' || n.id === 'm');
      d.nodes.push({ id: 'ds', type: 'dataset' });
      d.edges = [{ from: 'in', to: 'm' }, { from: 'm', to: 'ds' }];
    });
    expect(droppedNodeIds(base, next)).toEqual(['out']);
    expect(droppedNodeIds(next, base)).toEqual(['ds']);
  });

  it('copyName appends (n) and keeps names within 128 characters', async () => {
    expect(copyName('meter', 2)).toBe('meter (2)');
    const long = copyName('x'.repeat(128), 12);
    expect(long).toHaveLength(128);
    expect(long.endsWith(' (12)')).toBe(true);
  });

  it('tag names refuse autosave, slashes and overlong names', async () => {
    expect(tagName().safeParse('v1.2_rc-3').success).toBe(true);
    for (const bad of ['autosave', 'AUTOSAVE', 'a/b', '', 'x'.repeat(65), 'a b']) expect(tagName().safeParse(bad).success, bad).toBe(false);
  });

  it('the deployment table allows deploy from any phase and undeploy only when deployed', async () => {
    expect(canTransition('deploy', null)).toBe(true);
    expect(canTransition('deploy', 'undeployed')).toBe(true);
    expect(canTransition('deploy', 'deployed')).toBe(true);
    expect(canTransition('undeploy', 'deployed')).toBe(true);
    expect(canTransition('undeploy', 'undeployed')).toBe(false);
    expect(canTransition('undeploy', null)).toBe(false);
  });
});
