import { writeFileSync } from 'node:fs';
import { openApiDocument } from '#shared/http/openapi.ts';

/**
 * `npm run openapi`: writes docs/openapi.json from the route table and schemas.
 * The document is built here, not at cold start, so the handler that serves it
 * only parses JSON (a unit test fails when the file is out of date).
 */
writeFileSync(new URL('../docs/openapi.json', import.meta.url), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log('wrote docs/openapi.json');
