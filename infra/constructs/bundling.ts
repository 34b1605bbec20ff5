import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** The repository root: functions/, shared/, package.json. */
export const PROJECT_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

/** Where a handler module (`v1/streams-get`) lives. */
export const entryOf = (handlerModule: string) => resolve(PROJECT_ROOT, 'functions', `${handlerModule}.ts`);

/**
 * The one set of esbuild options every Lambda is bundled with. The CDK function
 * construct turns it into NodejsFunction bundling options and `npm run bench`
 * passes it to esbuild directly, so the bench measures exactly what deploys.
 *
 * - ESM for node24, minified, tree-shaken, linked source maps without sources.
 * - Nothing external: the AWS SDK is bundled (only the clients a handler
 *   imports end up in it) instead of relying on the runtime's copy, so the
 *   version we test is the version that runs and tree-shaking applies to it.
 * - `module` before `main` so packages ship their ESM builds (better shaking).
 * - The banner gives bundled CommonJS dependencies a `require` for Node built-ins.
 */
export const ESBUILD = {
  target: 'node24',
  format: 'esm',
  platform: 'node',
  minify: true,
  treeShaking: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: [] as string[],
  banner: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);",
} as const;

/** The esbuild build options of ESBUILD, without an entry point (the bench adds its own). */
export function esbuildBuildOptions(outfile: string): BuildOptions {
  const { banner, external, mainFields, ...rest } = ESBUILD;
  return {
    ...rest,
    bundle: true,
    outfile,
    external: [...external],
    mainFields: [...mainFields],
    banner: { js: banner },
    metafile: true,
    logLevel: 'warning',
  };
}

/** esbuild options for one handler module, exactly as the Lambda is bundled. */
export function esbuildOptionsFor(handlerModule: string, outfile: string): BuildOptions {
  return { ...esbuildBuildOptions(outfile), entryPoints: [entryOf(handlerModule)] };
}

let digest: string | undefined;

/**
 * A digest of everything a bundle is made from: the sources under functions/,
 * shared/ and infra/, the lock file and these options. CDK uses
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
  digest = hash.digest('hex');
  return digest;
}

export const assetHashOf = (handlerModule: string) => createHash('sha256').update(sourceDigest()).update(handlerModule).digest('hex');
