import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routes } from '#functions/routes.ts';
import { openApiDocument } from '#shared/http/openapi.ts';

describe('the OpenAPI document', () => {
  const built = openApiDocument();

  it('has every route of the route table', () => {
    for (const route of routes) {
      expect(built.paths?.[route.path], route.path).toHaveProperty(route.method.toLowerCase());
    }
  });

  it('is committed up to date in docs/openapi.json (run `npm run openapi` after changing routes or schemas)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(built)));
  });
});
