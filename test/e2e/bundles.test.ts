import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceMap } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ESBUILD, bundleHandler, loadedAtInit, usesRequire } from '#infra/constructs/bundling.ts';
import { api, baseUrl, newTenant, unique } from '../support/api.ts';
import { dbconvertConnectionBody } from '../support/connections.ts';

/**
 * The artifacts CDK deploys, run as Lambda runs them: each handler bundled by
 * bundleHandler (split ESM chunks, those read at init folded into the entry,
 * the route rows inlined) and imported in a
 * fresh Node process with the local runtime's environment. What they write,
 * the gateway reads back, and the other way round.
 */
const dir = mkdtempSync(join(tmpdir(), 'sluice-bundles-'));
const metafiles = new Map<string, Metafile>();

function invokeBundle(handlerModule: string, event: unknown): any {
  const entry = pathToFileURL(join(dir, handlerModule, 'index.mjs')).href;
  const code = `const { handler } = await import(${JSON.stringify(entry)}); process.stdout.write(JSON.stringify(await handler(JSON.parse(process.argv[1]), {})));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code, JSON.stringify(event)], {
    env: { PATH: process.env.PATH, ...inject('runtimeEnv') },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

function httpEvent(routeKey: string, path: string, context: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { host: new URL(baseUrl()).host, 'x-forwarded-proto': 'http', 'content-type': 'application/json' },
    requestContext: { requestId: unique('req'), domainName: new URL(baseUrl()).host, http: { method: routeKey.split(' ')[0], path }, authorizer: { lambda: context } },
    isBase64Encoded: false,
    ...extra,
  };
}

describe('deployed bundles', () => {
  let tenant: Awaited<ReturnType<typeof newTenant>>;
  let context: Record<string, unknown>;

  beforeAll(async () => {
    for (const module of ['events/authorizer', 'v1/streams-create', 'v1/streams-get', 'v1/openapi', 'workflows/process-bundle', 'dbconvert/connections-test']) metafiles.set(module, bundleHandler(module, join(dir, module)));
    tenant = await newTenant();
    const decision = invokeBundle('events/authorizer', { type: 'REQUEST', routeKey: 'GET /v1/streams/{id}', headers: { 'x-api-key': tenant.key }, identitySource: [] });
    expect(decision.isAuthorized).toBe(true);
    context = decision.context;
    expect(context).toMatchObject({ solutionId: tenant.solution.id, keyId: tenant.keyId });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are split: code behind a dynamic import is a chunk a cold start does not read', () => {
    const metafile = metafiles.get('v1/streams-create')!;
    const atInit = loadedAtInit(metafile);
    const inputsAt = (files: string[]) => files.flatMap((file) => Object.keys(metafile.outputs[file].inputs));
    const allFiles = Object.keys(metafile.outputs).filter((file) => file.endsWith('.mjs'));
    expect(inputsAt(allFiles).some((input) => input.includes('node_modules/jsonata/'))).toBe(true);
    expect(inputsAt(atInit).some((input) => input.includes('node_modules/jsonata/'))).toBe(false);
    // The whole route table stays out: only the handler's own rows are inlined.
    expect(inputsAt(allFiles).some((input) => input.endsWith('functions/routes.ts'))).toBe(false);
    expect(readdirSync(join(dir, 'v1/streams-create/chunks')).length).toBeGreaterThan(0);
  });

  it('read one file at cold start; a chunk read later reaches the folded modules through the entry', () => {
    for (const [module, metafile] of metafiles) {
      expect(loadedAtInit(metafile), module).toHaveLength(1);
      const entry = loadedAtInit(metafile)[0];
      for (const [file, output] of Object.entries(metafile.outputs)) {
        if (!file.endsWith('.mjs') || file === entry) continue;
        expect(existsSync(file), file).toBe(true);
        // A folded chunk that later chunks import is a re-export of the entry's bindings, nothing of its own.
        if (output.imports.some((i) => i.path === entry)) expect(readFileSync(file, 'utf8')).toMatch(/^export\{[\w$, ]+\}from"\.\.\/index\.mjs";\n$/);
      }
    }
    // esbuild's helpers (a chunk of no input that imports nothing), which only the lazy CommonJS drivers use, stay out of the cold start.
    const connectionTest = metafiles.get('dbconvert/connections-test')!;
    const testEntry = loadedAtInit(connectionTest)[0];
    const helpers = Object.entries(connectionTest.outputs)
      .filter(([file, output]) => file.endsWith('.mjs') && Object.keys(output.inputs).length === 0 && output.imports.length === 0)
      .map(([file]) => file);
    expect(helpers).toHaveLength(1);
    expect(connectionTest.outputs[testEntry].imports.map((i) => i.path)).not.toContain(helpers[0]);
    expect(readFileSync(testEntry, 'utf8')).not.toContain(helpers[0].split('/').pop());
    const create = metafiles.get('v1/streams-create')!;
    expect(Object.values(create.outputs).some((output) => output.imports.some((i) => i.path === loadedAtInit(create)[0]))).toBe(true);
    // The entry's source map is chained back to the TypeScript sources, through the folded chunks.
    const map = JSON.parse(readFileSync(join(dir, 'v1/streams-get/index.mjs.map'), 'utf8')) as { sources: string[] };
    expect(map.sources.some((source) => source.endsWith('functions/v1/streams-get.ts'))).toBe(true);
    expect(map.sources.some((source) => source.endsWith('shared/model/errors.ts'))).toBe(true);
    expect(map.sources.some((source) => source.includes('@aws-sdk/client-dynamodb/'))).toBe(true);
    // And each position maps to its own source line, also after the helper chunk's import was blanked out of the entry.
    const testCode = readFileSync(join(dir, 'dbconvert/connections-test/index.mjs'), 'utf8');
    const testMap = new SourceMap(JSON.parse(readFileSync(join(dir, 'dbconvert/connections-test/index.mjs.map'), 'utf8')));
    const origin = (needle: string) => {
      const at = testCode.indexOf(needle);
      const line = testCode.slice(0, at).split('\n').length - 1;
      const entry = testMap.findEntry(line, at - (testCode.lastIndexOf('\n', at - 1) + 1)) as { originalSource: string; originalLine: number };
      return `${entry.originalSource.replace(/^.*?\/(shared|functions)\//, '$1/')}:${entry.originalLine + 1}`;
    };
    const sourceLine = (file: string, needle: string) => `${file}:${readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1}`;
    expect(origin('the body is not valid JSON')).toBe(sourceLine('shared/http/handler.ts', 'the body is not valid JSON'));
    expect(origin('A valid API key is required')).toBe(sourceLine('shared/model/errors.ts', 'A valid API key is required'));
  });

  it('give a `require` only to the files that use it', () => {
    const banner = ESBUILD.banner;
    expect(['throw Error("key required")', 'e.require', '{"require":1}', 'const $require=1'].some((code) => usesRequire(banner + code))).toBe(false);
    expect(['typeof require<"u"?require:e', 'require.resolve(x)'].every((code) => usesRequire(banner + code))).toBe(true);
    for (const module of metafiles.keys()) {
      const files = Object.keys(metafiles.get(module)!.outputs).filter((file) => file.endsWith('.mjs'));
      const texts = files.map((file) => readFileSync(file, 'utf8'));
      for (const text of texts) expect(text.startsWith(banner)).toBe(usesRequire(text));
      // The metafile's sizes are the files' sizes.
      files.forEach((file, i) => expect(metafiles.get(module)!.outputs[file].bytes).toBe(Buffer.byteLength(texts[i])));
    }
    // Some do (bundled CommonJS asks for Node built-ins), and those bundles run: see the tests below.
    const engine = Object.keys(metafiles.get('workflows/process-bundle')!.outputs).filter((file) => file.endsWith('.mjs'));
    expect(engine.some((file) => readFileSync(file, 'utf8').startsWith(banner))).toBe(true);
    expect(engine.some((file) => !readFileSync(file, 'utf8').startsWith(banner))).toBe(true);
  });

  it('evaluate at init only what they use, and keep the modules that register engine nodes', () => {
    const inputsAtInit = (module: string) => {
      const metafile = metafiles.get(module)!;
      return loadedAtInit(metafile).flatMap((file) => Object.entries(metafile.outputs[file].inputs).filter(([, { bytesInOutput }]) => bytesInOutput > 0).map(([input]) => input));
    };
    // A stream read never schedules or starts runs: those clients are not built in its cold start.
    const read = inputsAtInit('v1/streams-get');
    expect(read.some((input) => input.includes('@aws-sdk/client-dynamodb/'))).toBe(true);
    expect(read.some((input) => input.includes('@aws-sdk/client-scheduler/') || input.includes('@aws-sdk/client-sfn/') || input.includes('@aws-sdk/client-s3/'))).toBe(false);
    // Imported for their side effects only (package.json "sideEffects"): without them no node type would be registered.
    const engine = inputsAtInit('workflows/process-bundle');
    expect(engine).toContain('shared/engine/nodes.ts');
    expect(engine).toContain('shared/engine/nodes/register.ts');
  });

  it('create a stream that the gateway reads, and read it back the same', async () => {
    const name = unique('bundled');
    const definition = {
      nodes: [
        { id: 'in', type: 'http-collector', config: { format: 'ndjson' } },
        { id: 'f', type: 'filter', config: { expression: 'kwh > 0' } },
        { id: 'out', type: 'aggregation-store', name: 'usage', config: {} },
      ],
      edges: [
        { from: 'in', to: 'f' },
        { from: 'f', to: 'out' },
      ],
    };
    const created = invokeBundle('v1/streams-create', httpEvent('POST /v1/streams', '/v1/streams', context, { body: JSON.stringify({ name, definition }) }));
    expect(created.statusCode, created.body).toBe(201);
    const id = JSON.parse(created.body).id as string;

    const viaGateway = await api('GET', `/v1/streams/${id}`, { key: tenant.key });
    expect(viaGateway.status).toBe(200);
    expect(viaGateway.body).toMatchObject({ id, name, solutionId: tenant.solution.id });

    const viaBundle = invokeBundle('v1/streams-get', httpEvent('GET /v1/streams/{id}', `/v1/streams/${id}`, context, { pathParameters: { id } }));
    expect(viaBundle.statusCode).toBe(200);
    expect(JSON.parse(viaBundle.body)).toEqual(viaGateway.body);
  });

  it('replay a create with the same Idempotency-Key from the chunk that holds the idempotency store', async () => {
    const name = unique('idem');
    const event = () => {
      const e = httpEvent('POST /v1/streams', '/v1/streams', context, { body: JSON.stringify({ name }) });
      return { ...e, headers: { ...e.headers, 'idempotency-key': name } };
    };
    const first = invokeBundle('v1/streams-create', event());
    const again = invokeBundle('v1/streams-create', event());
    expect(first.statusCode, first.body).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(JSON.parse(again.body).id).toBe(JSON.parse(first.body).id);
    const listed = await api('GET', `/v1/streams?name=${name}`, { key: tenant.key });
    expect(listed.body.items).toHaveLength(1);
    // The chunk throws the entry's own SluiceError class (reached through a re-export), so this is a 409, not a 500.
    const changed = event();
    const reused = invokeBundle('v1/streams-create', { ...changed, body: JSON.stringify({ name, description: 'other' }) });
    expect(reused.statusCode, reused.body).toBe(409);
    expect(JSON.parse(reused.body).error.message).toMatch(/different body/);
  });

  it('test a PostgreSQL connection: the lazy driver chunk finds esbuild\'s helpers in their own chunk', () => {
    const body = dbconvertConnectionBody('postgresql');
    const reply = invokeBundle('dbconvert/connections-test', httpEvent('POST /api/v1/connections/test', '/api/v1/connections/test', context, { body: JSON.stringify(body) }));
    expect(reply.statusCode, reply.body).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ ping: 'ok' });
    const refused = invokeBundle('dbconvert/connections-test', httpEvent('POST /api/v1/connections/test', '/api/v1/connections/test', context, { body: JSON.stringify({ ...body, port: 'five' }) }));
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body).error).toMatch(/port/);
  });

  it('answer a route they do not serve with 404 in the face error shape', () => {
    const reply = invokeBundle('v1/streams-get', httpEvent('GET /v1/solutions', '/v1/solutions', context));
    expect(reply.statusCode).toBe(404);
    expect(JSON.parse(reply.body).error.code).toBe('not_found');
  });

  it('keep the invalid-request answer of the unbundled handler', () => {
    const reply = invokeBundle('v1/streams-create', httpEvent('POST /v1/streams', '/v1/streams', context, { body: JSON.stringify({ name: 'x', definition: { nodes: [{ id: 'f', type: 'filter', config: { expression: 'a +* b' } }] } }) }));
    expect(reply.statusCode).toBe(400);
    expect(JSON.parse(reply.body).error.details.map((d: { path: string }) => d.path)).toContain('definition.nodes[0].config.expression');
    expect(existsSync(join(dir, 'v1/streams-create/index.mjs'))).toBe(true);
  });

  it('serve the committed OpenAPI document as the gateway does, from a string carried in a chunk of the bundle', async () => {
    const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    const reply = invokeBundle('v1/openapi', httpEvent('GET /v1/openapi.json', '/v1/openapi.json', {}));
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(reply.body)).toEqual(committed);
    const viaGateway = await api('GET', '/v1/openapi.json', { key: null });
    expect(viaGateway.body).toEqual(committed);
    expect(readFileSync(join(dir, 'v1/openapi/index.mjs'), 'utf8')).not.toContain('docs/openapi.json');
    // The 100 KB text is in a chunk of its own, read on the first request rather than at cold start.
    const metafile = metafiles.get('v1/openapi')!;
    expect(metafile.outputs[loadedAtInit(metafile)[0]].bytes).toBeLessThan(10_000);
    const chunks = readdirSync(join(dir, 'v1/openapi/chunks')).filter((file) => file.endsWith('.mjs'));
    expect(chunks.some((file) => readFileSync(join(dir, 'v1/openapi/chunks', file), 'utf8').includes('"openapi":"3.1'))).toBe(true);
  });
});
