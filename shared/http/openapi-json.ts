import { readFile } from 'node:fs/promises';

/** docs/openapi.json as compact JSON text, inlined by esbuild into the v1/openapi bundle (bundling.ts). */
declare const SLUICE_OPENAPI_JSON: string | undefined;

let documentJson: Promise<string> | undefined;

/**
 * The document as JSON text. A bundle carries it as one string literal in this
 * module, which v1/openapi imports on its first request (so a cold start does
 * not scan 100 KB), and it is answered as is, without JSON.stringify per
 * request. Unbundled (local runtime, tests) it is read from docs/openapi.json once.
 */
export const openApiJson = () =>
  (documentJson ??=
    typeof SLUICE_OPENAPI_JSON === 'undefined'
      ? readFile(new URL('../../docs/openapi.json', import.meta.url), 'utf8').then((text) => JSON.stringify(JSON.parse(text)))
      : Promise.resolve(SLUICE_OPENAPI_JSON));
