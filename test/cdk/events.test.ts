import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routeByKey } from '#functions/routes.ts';

const event = (name: string) => JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'));

describe('sample events', () => {
  it('HTTP API events name a route of routes.ts and carry the authorizer context handlers read', () => {
    for (const name of ['api-create-stream.json', 'api-get-stream.json']) {
      const sample = event(name);
      expect(sample.version).toBe('2.0');
      expect(routeByKey(sample.routeKey), name).toBeDefined();
      expect(sample.requestContext.routeKey).toBe(sample.routeKey);
      expect(sample.requestContext.authorizer.lambda).toMatchObject({ keyId: expect.any(String), solutionId: expect.any(String) });
    }
    expect(JSON.parse(event('api-create-stream.json').body).definition.nodes.length).toBeGreaterThan(0);
  });

  it('the authorizer event is a payload 2.0 REQUEST event for a real route', () => {
    const sample = event('authorizer.json');
    expect(sample).toMatchObject({ version: '2.0', type: 'REQUEST' });
    expect(routeByKey(sample.routeKey)).toBeDefined();
  });
});
