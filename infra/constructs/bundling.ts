import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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
 *   `index.mjs` as the entry; mergeInitChunks then folds the chunks a cold
 *   start reads into it.
 * - Nothing external: the AWS SDK is bundled (only the clients a handler
 *   imports end up in it) instead of relying on the runtime's copy, so the
 *   version we test is the version that runs and tree-shaking applies to it.
 * - `module` before `main` so packages ship their ESM builds (better shaking).
 * - The banner gives bundled CommonJS dependencies a `require` for Node built-ins,
 *   built on its first call: createRequire (and importing node:module for it)
 *   would cost every cold start about 0.6 ms. A Proxy, so that `require.resolve`
 *   and the like work too. dropUnusedRequire then takes it off the files that
 *   never use it.
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
  banner:
    'let __sluiceRequire;const __sluiceRequireOnce=()=>__sluiceRequire??=process.getBuiltinModule("node:module").createRequire(import.meta.url),' +
    'require=new Proxy(()=>{},{apply:(_,self,args)=>__sluiceRequireOnce().apply(self,args),get:(_,key)=>__sluiceRequireOnce()[key]});',
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
  return finishBundle(buildSync(esbuildOptionsFor(handlerModule, outdir)).metafile!);
}

/** The steps after esbuild, for handlers (bundleHandler) and the bench's baselines alike. */
export const finishBundle = (metafile: Metafile, workingDir = process.cwd()): Metafile => mergeInitChunks(dropUnusedRequire(metafile, workingDir), workingDir);

/** A free `require` in minified code: not `.require`, `"require"`, `required` or `$require`. */
const NAMES_REQUIRE = /(?<![\w$.'"`])require(?![\w$'"`])/;

/** Whether a file's code, after the banner, names `require`. */
export const usesRequire = (text: string) => NAMES_REQUIRE.test(text.slice(ESBUILD.banner.length));

/**
 * esbuild puts the banner on every output file, but most chunks never name
 * `require`, and even a lazy one costs a little to parse. Takes
 * the banner off those files (the line stays, so source maps still match) and
 * corrects their sizes in the metafile. A file whose code names `require`
 * keeps it.
 */
function dropUnusedRequire(metafile: Metafile, workingDir = process.cwd()): Metafile {
  const banner = ESBUILD.banner;
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (!file.endsWith('.mjs')) continue;
    const path = resolve(workingDir, file);
    const text = readFileSync(path, 'utf8');
    if (!text.startsWith(banner) || usesRequire(text)) continue;
    writeFileSync(path, text.slice(banner.length));
    output.bytes -= Buffer.byteLength(banner);
  }
  return metafile;
}

/**
 * Folds the chunks a cold start reads into the entry file.
 *
 * esbuild puts every module that the entry shares with a dynamic import into
 * a chunk of its own, so a typical handler's cold start reads 10 to 15 files,
 * and Node pays for each one (resolve, read, compile, link: about 0.3 ms of
 * CPU) before the handler runs. This runs esbuild again on the entry, with the
 * dynamically imported chunks external, so the static ones are inlined: a cold
 * start reads `index.mjs` alone. The source maps are chained back to the
 * sources.
 *
 * esbuild's helper chunk (no input, no imports) is left out when the init files
 * import it only to keep the evaluation order: only lazy chunks use it.
 *
 * Chunks read later (behind an `import()`) may import a folded chunk. Such a
 * chunk becomes a one-line module re-exporting the same names from the entry,
 * which is already evaluated by then, so every module still exists once (one
 * SluiceError class, one client). The others are deleted. The metafile is
 * rewritten to match: the entry lists the inputs of everything folded into it.
 *
 * The lazy chunks are made external by their absolute paths, which esbuild
 * takes for file paths on posix systems (CI, the Lambda build); a synth on
 * Windows would need checking.
 *
 * One restriction follows: code evaluated at init must not await a dynamic
 * import at top level. A lazy chunk that imports a re-export would then wait
 * for the entry, which waits for it (Node exits with code 13). Sluice's
 * modules import lazily inside functions only.
 */
function mergeInitChunks(metafile: Metafile, workingDir = process.cwd()): Metafile {
  const [entry, ...reached] = loadedAtInit(metafile);
  if (reached.length === 0) return metafile;
  const path = (file: string) => resolve(workingDir, file);
  const specifier = (file: string, from: string) => {
    const rel = relative(from, path(file)).split('\\').join('/');
    return rel.startsWith('.') ? rel : `./${rel}`;
  };
  const texts = new Map([entry, ...reached].map((file) => [file, readFileSync(path(file), 'utf8')]));
  const bareImport = (chunk: string, from: string) => `import${JSON.stringify(specifier(chunk, dirname(path(from))))};`;
  // esbuild's own helpers (a chunk of no input that imports nothing: __commonJS, __require, ...) that the files
  // read at init import bare, for order only: they stay a lazy chunk for the chunks that use them, and their import goes.
  const isHelpers = (chunk: string) => Object.keys(metafile.outputs[chunk].inputs).length === 0 && metafile.outputs[chunk].imports.length === 0;
  const helpers = reached.filter(
    (chunk) => isHelpers(chunk) && [...texts].every(([file, text]) => !text.includes(`from${JSON.stringify(specifier(chunk, dirname(path(file))))}`)),
  );
  const folded = reached.filter((chunk) => !helpers.includes(chunk));
  const atInit = new Set([entry, ...folded]);
  const later = Object.keys(metafile.outputs).filter((file) => file.endsWith('.mjs') && !atInit.has(file));
  const importedLater = new Set(later.flatMap((file) => metafile.outputs[file].imports.map((i) => i.path).filter((p) => atInit.has(p))));
  const reexported = folded.filter((chunk) => importedLater.has(chunk));
  const alias = (index: number, name: string) => `__${index}_${name}`;

  // The banner comes off the folded files and goes once on the merged one, if any of them needed it.
  let needsRequire = false;
  for (const file of atInit) {
    let text = texts.get(file)!;
    if (text.startsWith(ESBUILD.banner)) {
      needsRequire = true;
      text = text.slice(ESBUILD.banner.length);
    }
    // Blanked out rather than cut, so the columns of the rest of the line still match the file's source map.
    for (const chunk of helpers) text = text.replace(bareImport(chunk, file), ' '.repeat(bareImport(chunk, file).length));
    writeFileSync(path(file), text);
  }

  const entryDir = dirname(path(entry));
  const mergeEntry = join(entryDir, '__merge__.mjs');
  writeFileSync(
    mergeEntry,
    [
      `export*from${JSON.stringify(specifier(entry, entryDir))};`,
      ...reexported.map((chunk, i) => `export{${metafile.outputs[chunk].exports.map((name) => `${name} as ${alias(i, name)}`).join(',')}}from${JSON.stringify(specifier(chunk, entryDir))};`),
    ].join(''),
  );
  const { banner: _banner, external: _external, mainFields: _mainFields, entryNames: _entryNames, chunkNames: _chunkNames, splitting: _splitting, ...options } = ESBUILD;
  let outputFiles;
  try {
    ({ outputFiles } = buildSync({
      ...options,
      entryPoints: [mergeEntry],
      outfile: path(entry),
      bundle: true,
      write: false,
      // The chunks are already shaken; package.json "sideEffects" must not drop the bare imports between them.
      ignoreAnnotations: true,
      external: later.map(path),
      banner: needsRequire ? { js: ESBUILD.banner } : undefined,
      logLevel: 'warning',
    }));
  } catch (error) {
    // Leave the split bundle as esbuild wrote it (banners and all), not half merged.
    for (const [file, text] of texts) writeFileSync(path(file), text);
    throw error;
  } finally {
    rmSync(mergeEntry);
  }
  for (const output of outputFiles) writeFileSync(output.path, output.contents);

  const merged = metafile.outputs[entry];
  const inputs = { ...merged.inputs };
  const imports = new Map<string, Metafile['outputs'][string]['imports'][number]>();
  for (const file of [entry, ...folded]) {
    for (const [input, value] of Object.entries(metafile.outputs[file].inputs)) inputs[input] = value;
    for (const i of metafile.outputs[file].imports) if (!atInit.has(i.path) && !helpers.includes(i.path)) imports.set(`${i.kind} ${i.path}`, i);
  }
  metafile.outputs[entry] = { ...merged, inputs, imports: [...imports.values()], bytes: outputFiles.find((o) => o.path === path(entry))!.contents.byteLength };
  folded.forEach((chunk) => {
    rmSync(`${path(chunk)}.map`, { force: true });
    delete metafile.outputs[`${chunk}.map`];
    const index = reexported.indexOf(chunk);
    if (index < 0) {
      rmSync(path(chunk));
      delete metafile.outputs[chunk];
      return;
    }
    const exports = metafile.outputs[chunk].exports;
    const shim = `export{${exports.map((name) => `${alias(index, name)} as ${name}`).join(',')}}from${JSON.stringify(specifier(entry, dirname(path(chunk))))};\n`;
    writeFileSync(path(chunk), shim);
    metafile.outputs[chunk] = { bytes: Buffer.byteLength(shim), inputs: {}, imports: [{ path: entry, kind: 'import-statement' }], exports };
  });
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
