import { build } from 'esbuild';
import { writeFileSync, mkdirSync } from 'node:fs';
import { esbuildOptionsFor, esbuildBuildOptions, PROJECT_ROOT } from '#infra/constructs/bundling.ts';
for (const mod of process.argv.slice(2)) await build(esbuildOptionsFor(mod, '/tmp/cs/q/' + mod));
mkdirSync('/tmp/cs/q/snip', { recursive: true }); writeFileSync('/tmp/cs/q/snip/e.js', 'globalThis.__c=[];export const handler=async()=>globalThis.__c.length;');
await build({ ...esbuildBuildOptions('/tmp/cs/q/empty'), entryPoints: { index: '/tmp/cs/q/snip/e.js' }, nodePaths: [PROJECT_ROOT + '/node_modules'] });
