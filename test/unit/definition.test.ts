import { describe, expect, it } from 'vitest';
import { cdcSourcesOf, connectionIdsOf, connectionProblem, connectionReferences, connectionTypeMismatch, connectionUses, parseSourceOffset, validateDefinition, type Definition, type DefinitionNode } from '#shared/model/definition.ts';
import { SluiceError } from '#shared/model/errors.ts';

async function problems(definition: unknown): Promise<string[]> {
  try {
    await validateDefinition(definition);
  } catch (error) {
    if (error instanceof SluiceError) return (error.details ?? []).map((d) => `${d.path}: ${d.message}`);
    throw error;
  }
  return [];
}

const source = { id: 'in', type: 'http-collector' };
const sink = { id: 'out', type: 'dataset' };

describe('validateDefinition', async () => {
  it('fills defaults for an empty definition', async () => {
    expect(await validateDefinition({})).toMatchObject({
      mode: 'batch',
      nodes: [],
      edges: [],
      settings: { dataBundleSize: 500, limits: { numberOfEvents: 0, elapsedTime: 0 } },
    });
  });

  it('accepts the example graph of API.md and applies node config defaults', async () => {
    const definition = await validateDefinition({
      mode: 'batch',
      nodes: [
        { id: 'in', type: 'http-collector', name: 'meter-readings', config: { format: 'ndjson' } },
        { id: 'm', type: 'meter', config: { groupBy: ['account'], aggregates: { kwh: { fn: 'sum', field: 'kwh' } } } },
        { id: 'out', type: 'aggregation-store', name: 'usage', config: {} },
      ],
      edges: [{ from: 'in', to: 'm' }, { from: 'm', to: 'out' }],
      nodeGroups: [{ id: 'g1', name: 'ingest', nodes: ['in'] }],
      settings: { dataBundleSize: 500, reportingIntervals: { source: 3, target: 3 }, limits: { numberOfEvents: 0, elapsedTime: 0 } },
      schedule: { cron: '0 2 * * ? *' },
    });
    expect(definition.nodes[2].config).toEqual({});
    expect(definition.schedule).toEqual({ cron: '0 2 * * ? *' });
  });

  it('names a cycle with its nodes', async () => {
    const found = await problems({
      nodes: [source, { id: 'a', type: 'map', config: { expression: '$' } }, { id: 'b', type: 'map', config: { expression: '$' } }, sink],
      edges: [{ from: 'in', to: 'a' }, { from: 'a', to: 'b' }, { from: 'b', to: 'a' }, { from: 'b', to: 'out' }],
    });
    expect(found).toContain('definition.edges: the graph has a cycle: a -> b -> a');
  });

  it('refuses edges into sources and out of sinks', async () => {
    const found = await problems({ nodes: [source, sink], edges: [{ from: 'out', to: 'in' }] });
    expect(found).toEqual(
      expect.arrayContaining([
        'definition.edges[0].from: out is a sink and cannot feed other nodes',
        'definition.edges[0].to: in is a source and cannot take input',
      ]),
    );
  });

  it('requires every sink to be reachable from a source', async () => {
    expect(await problems({ nodes: [source, sink], edges: [] })).toContain('definition.nodes[1]: sink out is not reachable from any source');
    expect(await problems({ nodes: [source, sink], edges: [{ from: 'in', to: 'out' }] })).toEqual([]);
  });

  it('checks node configs per type, refusing unknown keys', async () => {
    expect((await problems({ nodes: [{ id: 'f', type: 'filter', config: {} }] }))[0]).toMatch(/^definition\.nodes\[0\]\.config\.expression/);
    expect((await problems({ nodes: [{ id: 'h', type: 'http-collector', config: { fromat: 'csv' } }] }))[0]).toMatch(/^definition\.nodes\[0\]\.config/);
    expect((await problems({ nodes: [{ id: 'd', type: 'dataset', config: { updateMethod: 'UPSERT' } }] }))[0]).toMatch(/keyColumnNames/);
    expect(await problems({ nodes: [{ id: 's', type: 'aggregation-store' }] })).toContain(
      'definition.nodes[0].name: an aggregation-store node needs a name (the store it writes)',
    );
  });

  it('refuses duplicate node ids, bad ids and unknown group members', async () => {
    const found = await problems({ nodes: [source, { ...source }], nodeGroups: [{ id: 'g', nodes: ['ghost'] }] });
    expect(found).toEqual(expect.arrayContaining(['definition.nodes[1].id: duplicate node id in', 'definition.nodeGroups[0].nodes[0]: no node ghost']));
    expect((await problems({ nodes: [{ id: 'bad id', type: 'map', config: { expression: '$' } }] }))[0]).toMatch(/^definition\.nodes\[0\]\.id/);
  });

  it('validates the cron schedule', async () => {
    expect((await problems({ schedule: { cron: 'every day' } }))[0]).toMatch(/^definition\.schedule\.cron/);
    expect(await problems({ schedule: { cron: '0/5 * * * ? *' } })).toEqual([]);
  });

  it('compiles JSONata expressions', async () => {
    expect((await problems({ nodes: [{ id: 'm', type: 'map', config: { expression: '{"a": }' } }] }))[0]).toMatch(/^definition\.nodes\[0\]\.config\.expression: invalid JSONata/);
  });
});

describe('CDC sources', () => {
  const nodes = [
    { id: 'orders', type: 'table-source', config: { connectionId: 'conn_a', tables: ['orders'] } },
    { id: 'in', type: 'http-collector', config: {} },
    { id: 'out', type: 'table-sink', config: { connectionId: 'conn_b', table: 't' } },
  ];

  it('are the table sources of a continuous stream: their slots are dropped when it is deleted', () => {
    expect(cdcSourcesOf({ mode: 'continuous', nodes, edges: [] } as unknown as Definition)).toEqual([{ nodeId: 'orders', connectionId: 'conn_a' }]);
    expect(cdcSourcesOf({ mode: 'batch', nodes, edges: [] } as unknown as Definition)).toEqual([]);
  });
});

describe('connection references', () => {
  it('are the connectionIds of table-source, table-sink and s3-source nodes with their paths; the ids deduplicated', () => {
    const definition = {
      nodes: [
        { id: 'a', type: 'table-source', config: { connectionId: 'conn_a', tables: [{ name: 't' }] } },
        { id: 's3', type: 's3-source', config: { prefix: '' } },
        { id: 'in', type: 'http-collector', config: { connectionId: 'conn_ignored' } },
        { id: 'x', type: 'table-sink', config: { connectionId: 'conn_b' } },
        { id: 'y', type: 'table-sink', config: { connectionId: 'conn_a' } },
        { id: 'z', type: 's3-source', config: { connectionId: 'conn_c' } },
      ],
      edges: [],
    } as unknown as Definition;
    expect(connectionReferences(definition)).toEqual([
      { connectionId: 'conn_a', path: 'definition.nodes[0].config.connectionId', node: 0, nodeId: 'a', nodeType: 'table-source' },
      { connectionId: 'conn_b', path: 'definition.nodes[3].config.connectionId', node: 3, nodeId: 'x', nodeType: 'table-sink' },
      { connectionId: 'conn_a', path: 'definition.nodes[4].config.connectionId', node: 4, nodeId: 'y', nodeType: 'table-sink' },
      { connectionId: 'conn_c', path: 'definition.nodes[5].config.connectionId', node: 5, nodeId: 'z', nodeType: 's3-source' },
    ]);
    expect(connectionIdsOf(definition)).toEqual(['conn_a', 'conn_b', 'conn_c']);
    expect(connectionIdsOf(undefined)).toEqual([]);
  });

  it('each distinct connection needs the types every node naming it accepts; a table node and an s3-source on one connection need none', () => {
    const definition = {
      nodes: [
        { id: 'a', type: 'table-source', config: { connectionId: 'conn_a', tables: [{ name: 't' }] } },
        { id: 'b', type: 'table-sink', config: { connectionId: 'conn_a' } },
        { id: 'c', type: 's3-source', config: { connectionId: 'conn_c' } },
        { id: 'd', type: 's3-source', config: { connectionId: 'conn_d' } },
        { id: 'e', type: 'table-sink', config: { connectionId: 'conn_d' } },
      ],
      edges: [],
    } as unknown as Definition;
    expect(connectionUses(definition)).toEqual([
      { connectionId: 'conn_a', types: ['postgresql', 'mysql'] },
      { connectionId: 'conn_c', types: ['s3'] },
      { connectionId: 'conn_d', types: [] },
    ]);
    expect(connectionUses(undefined)).toEqual([]);
  });

  it('a problem is a connection missing from the solution or of a type the node cannot use', () => {
    const source = { connectionId: 'conn_a', path: 'definition.nodes[0].config.connectionId', node: 0, nodeId: 'src', nodeType: 'table-source' } as const;
    const s3 = { ...source, nodeType: 's3-source' } as const;
    expect(connectionProblem(source, 'sol_1', { solutionId: 'sol_1', connectionType: 'mysql' })).toBeUndefined();
    expect(connectionProblem(s3, 'sol_1', { solutionId: 'sol_1', connectionType: 's3' })).toBeUndefined();
    expect(connectionProblem(source, 'sol_1', undefined)).toMatchObject({ problem: 'missing', message: 'connection conn_a does not exist in this solution' });
    expect(connectionProblem(source, 'sol_1', { solutionId: 'sol_2', connectionType: 'mysql' })).toMatchObject({ problem: 'missing' });
    expect(connectionProblem(source, 'sol_1', { solutionId: 'sol_1', connectionType: 's3' })).toEqual({
      ...source,
      problem: 'type',
      connectionType: 's3',
      message: 'connection conn_a is an s3 connection; a table-source needs postgresql or mysql',
    });
    expect(connectionProblem(s3, 'sol_1', { solutionId: 'sol_1', connectionType: 'postgresql' })?.message).toBe(
      'connection conn_a is a postgresql connection; an s3-source needs s3',
    );
    expect(connectionTypeMismatch('table-sink', 'conn_b', 's3')).toBe('connection conn_b is an s3 connection; a table-sink needs postgresql or mysql');
    expect(connectionTypeMismatch('table-sink', 'conn_b', 'postgresql')).toBeUndefined();
  });
});

describe('explicit source offsets', () => {
  const node = (type: string) => ({ id: 'src', type, config: {} }) as DefinitionNode;
  const refusal = (type: string, mode: 'batch' | 'continuous', value: unknown) => {
    try {
      parseSourceOffset(node(type), mode, value, 'offsets.src');
    } catch (error) {
      if (error instanceof SluiceError && error.code === 'invalid_request') return (error.details ?? []).map((d) => d.path);
      throw error;
    }
    return undefined;
  };

  it('take exactly what each source commits', () => {
    expect(parseSourceOffset(node('http-collector'), 'batch', { packet: 4 }, 'offsets.src')).toEqual({ packet: 4, entry: 0 });
    expect(parseSourceOffset(node('dataset-source'), 'batch', { version: 2, row: 10, byte: 512 }, 'offsets.src')).toEqual({ version: 2, row: 10, byte: 512 });
    expect(parseSourceOffset(node('s3-source'), 'batch', { key: 'in/2026/a.ndjson', line: 3 }, 'offsets.src')).toEqual({ key: 'in/2026/a.ndjson', line: 3 });
    expect(parseSourceOffset(node('table-source'), 'batch', { table: 1, key: [42, 'x'], rows: 500 }, 'offsets.src')).toEqual({ table: 1, key: [42, 'x'], rows: 500 });
    expect(parseSourceOffset(node('table-source'), 'continuous', { lsn: '0/16B3748' }, 'offsets.src')).toEqual({ lsn: '0/16B3748' });
    expect(parseSourceOffset(node('table-source'), 'continuous', { file: 'binlog.000003', position: 157 }, 'offsets.src')).toEqual({ file: 'binlog.000003', position: 157 });
    // What a source commits before reading anything, and a dataset read resuming by row after a version change.
    for (const type of ['http-collector', 'dataset-source', 's3-source', 'table-source']) expect(parseSourceOffset(node(type), 'continuous', {}, 'offsets.src')).toEqual({});
    expect(parseSourceOffset(node('dataset-source'), 'batch', { version: 3, row: 10, byte: -1 }, 'offsets.src')).toEqual({ version: 3, row: 10, byte: -1 });
  });

  it('refuse anything else with a 400 naming the field', () => {
    expect(refusal('http-collector', 'batch', { packet: '4' })).toContain('offsets.src.packet');
    expect(refusal('dataset-source', 'batch', { version: 2, row: 10 })).toContain('offsets.src.byte');
    expect(refusal('dataset-source', 'batch', { version: 2, row: 10, byte: -2 })).toContain('offsets.src.byte');
    expect(refusal('s3-source', 'batch', { key: 7 })).toContain('offsets.src.key');
    // A batch table-source reads by key, a continuous one the change log: neither takes the other's offset.
    expect(refusal('table-source', 'batch', { lsn: '0/16B3748' })).toBeDefined();
    expect(refusal('table-source', 'continuous', { table: 0, key: null, rows: 0 })).toBeDefined();
    expect(refusal('table-source', 'continuous', { lsn: 'yesterday' })).toBeDefined();
  });
});
