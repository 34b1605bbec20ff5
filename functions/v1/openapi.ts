import { readFile } from 'node:fs/promises';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';

/** docs/openapi.json as compact JSON text, inlined by esbuild into this handler's bundle (bundling.ts). */
declare const SLUICE_OPENAPI_JSON: string | undefined;

let documentJson: Promise<string> | undefined;

/**
 * The document as JSON text. A bundle carries it as one string literal, which
 * V8 scans instead of building a 100 KB object at cold start, and it is
 * answered as is, without JSON.stringify per request. Unbundled (local
 * runtime, tests) it is read from docs/openapi.json once.
 */
const openApiJson = () =>
  (documentJson ??=
    typeof SLUICE_OPENAPI_JSON === 'undefined'
      ? readFile(new URL('../../docs/openapi.json', import.meta.url), 'utf8').then((text) => JSON.stringify(JSON.parse(text)))
      : Promise.resolve(SLUICE_OPENAPI_JSON));

export const handler = httpHandler(async () => ok(await openApiJson(), { 'content-type': 'application/json; charset=utf-8' }));
