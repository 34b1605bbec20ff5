import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync, type BuildOptions, type Metafile } from 'esbuild';
import { routeKey, routes } from '#functions/routes.ts';

/** The repository root: functions/, shared/, package.json. */
export const PROJECT_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

/** Where a handler module (`v1/streams-get`) lives. */
export const entryOf = (handlerModule: string) => resolve(PROJECT_ROOT, 'functions', `${handlerModule}.ts`);

/**
 * Texts a handler's bundle carries as string constants (esbuild `define`),
 * read when it is bundled: per handler module, constant name → text.
 */
const INLINED_TEXTS: Record<string, Record<string, () => string>> = {
  // docs/openapi.json, written by `npm run openapi`, as compact JSON.
  'v1/openapi': { SLUICE_OPENAPI_JSON: () => JSON.stringify(JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'docs/openapi.json'), 'utf8'))) },
};

/** The file Lambda loads in a bundle directory: `index.handler` resolves to it. */
export const ENTRY_FILE = 'index.mjs';

/**
 * The one set of esbuild options every Lambda is bundled with. The CDK function
 * construct bundles with them (bundleHandler) and `npm run bench` passes them to
 * esbuild directly, so the bench measures exactly what deploys.
 *
 * - ESM for node24, minified, tree-shaken, linked source maps without sources.
 * - Code splitting: every dynamic `import()` (database drivers, JSONata, CSV,
 *   the logger, the SDK's own credential providers) becomes a chunk under
 *   `chunks/` that is read only when that code first runs. In a single file V8
 *   would still have to parse it at cold start. The bundle is a directory with
 *   `index.mjs` as the entry.
 * - Nothing external: the AWS SDK is bundled (only the clients a handler
 *   imports end up in it) instead of relying on the runtime's copy, so the
 *   version we test is the version that runs and tree-shaking applies to it.
 * - `module` before `main` so packages ship their ESM builds (better shaking).
 * - The banner gives bundled CommonJS dependencies a `require` for Node built-ins;
 *   dropUnusedRequire then takes it off the files that never use it.
 */
export const ESBUILD = {
  target: 'node24',
  format: 'esm',
  platform: 'node',
  minify: true,
  treeShaking: true,
  splitting: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: [] as string[],
  entryNames: 'index',
  chunkNames: 'chunks/[name]-[hash]',
  banner: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);",
} as const;

/** esbuild build options of ESBUILD writing a bundle directory, without an entry point (the bench adds its own). */
export function esbuildBuildOptions(outdir: string): BuildOptions {
  const { banner, external, mainFields, ...rest } = ESBUILD;
  return {
    ...rest,
    bundle: true,
    outdir,
    outExtension: { '.js': '.mjs' },
    external: [...external],
    mainFields: [...mainFields],
    banner: { js: banner },
    metafile: true,
    logLevel: 'warning',
  };
}

/**
 * esbuild options for one handler module, exactly as the Lambda is bundled.
 * `SLUICE_ROUTES` becomes the module's own rows of the route table, by route
 * key, as a JSON string (shared/http/handler.ts), so the bundle carries those instead of all of
 * it; the handler's INLINED_TEXTS are defined alike (the OpenAPI document).
 */
export function esbuildOptionsFor(handlerModule: string, outdir: string): BuildOptions {
  const ownRoutes = Object.fromEntries(routes.filter((route) => route.handler === handlerModule).map((route) => [routeKey(route), route]));
  const define: Record<string, string> = { SLUICE_ROUTES: JSON.stringify(JSON.stringify(ownRoutes)) };
  for (const [name, text] of Object.entries(INLINED_TEXTS[handlerModule] ?? {})) define[name] = JSON.stringify(text());
  return { ...esbuildBuildOptions(outdir), entryPoints: [entryOf(handlerModule)], define };
}

/** Bundles one handler module into `outdir` (`index.mjs` plus `chunks/`). Synchronous: CDK's local bundling is. */
export function bundleHandler(handlerModule: string, outdir: string): Metafile {
  return dropUnusedRequire(buildSync(esbuildOptionsFor(handlerModule, outdir)).metafile!);
}

/**
 * esbuild puts the banner on every output file, but most chunks never name
 * `require`, and each createRequire costs a cold start about 0.1 ms. Takes
 * the banner off those files (the line stays, so source maps still match) and
 * corrects their sizes in the metafile. A file whose code names `require`
 * keeps it.
 */
export function dropUnusedRequire(metafile: Metafile, workingDir = process.cwd()): Metafile {
  const banner = ESBUILD.banner;
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (!file.endsWith('.mjs')) continue;
    const path = resolve(workingDir, file);
    const text = readFileSync(path, 'utf8');
    if (!text.startsWith(banner) || text.includes('require', banner.length)) continue;
    writeFileSync(path, text.slice(banner.length));
    output.bytes -= Buffer.byteLength(banner);
  }
  return metafile;
}

/**
 * The output files a cold start reads: the entry and every chunk it reaches
 * through static imports (dynamic imports are left for later), as metafile keys.
 */
export function loadedAtInit(metafile: Metafile): string[] {
  const entry = Object.keys(metafile.outputs).find((file) => file.endsWith(`/${ENTRY_FILE}`) || file === ENTRY_FILE);
  if (!entry) throw new Error(`no ${ENTRY_FILE} among the outputs`);
  const loaded = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (loaded.has(file)) continue;
    loaded.add(file);
    for (const { path, kind } of metafile.outputs[file].imports) if (kind === 'import-statement' && metafile.outputs[path]) pending.push(path);
  }
  return [...loaded];
}

let digest: string | undefined;

/**
 * A digest of everything a bundle is made from: the sources under functions/,
 * shared/ and infra/, the lock file, docs/openapi.json and these options. CDK uses
 * `sourceDigest() + handler` as each function's asset hash, so a synth finds
 * an unchanged bundle already in cdk.out and skips esbuild for it.
 */
export function sourceDigest(): string {
  if (digest) return digest;
  const hash = createHash('sha256').update(JSON.stringify(ESBUILD));
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|js|mjs|json)$/.test(entry.name)) hash.update(path.slice(PROJECT_ROOT.length)).update(readFileSync(path));
    }
  };
  for (const dir of ['functions', 'shared', 'infra']) walk(resolve(PROJECT_ROOT, dir));
  hash.update(readFileSync(resolve(PROJECT_ROOT, 'package-lock.json')));
  hash.update(readFileSync(resolve(PROJECT_ROOT, 'docs/openapi.json')));
  digest = hash.digest('hex');
  return digest;
}

export const assetHashOf = (handlerModule: string) => createHash('sha256').update(sourceDigest()).update(handlerModule).digest('hex');
