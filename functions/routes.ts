import type { Scope } from '#shared/model/principal.ts';
import type { Face } from '#shared/http/faces.ts';

/**
 * THE route table. CDK deploys one function per handler module and one HTTP
 * API route per row; the local gateway serves exactly these rows. Adding an
 * endpoint is one row here plus one handler file under functions/.
 */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Route {
  method: Method;
  /** API Gateway path syntax: `{id}` for a segment. */
  path: string;
  /** Module under functions/ without extension, exporting `handler`. */
  handler: string;
  face: Face;
  scopes: Scope[];
  /** false: no API key needed (health checks, the OpenAPI document). */
  auth?: false;
  /** Extra grants the handler needs beyond table and bucket access. */
  needs?: ('sfn' | 'scheduler' | 'secrets')[];
}

const v1 = (method: Method, path: string, handler: string, scopes: Scope[], extra: Partial<Route> = {}): Route => ({
  method,
  path: `/v1${path}`,
  handler: `v1/${handler}`,
  face: 'native',
  scopes,
  ...extra,
});

/** DBConvert Streams face (seed 003): `/api/v1/...`, handlers under functions/dbconvert/. */
const dbc = (method: Method, path: string, handler: string, scopes: Scope[], extra: Partial<Route> = {}): Route => ({
  method,
  path: `/api/v1${path}`,
  handler: `dbconvert/${handler}`,
  face: 'dbconvert',
  scopes,
  ...extra,
});

export const routes: Route[] = [
  v1('GET', '/health', 'health', [], { auth: false }),
  v1('GET', '/openapi.json', 'openapi', [], { auth: false }),

  v1('POST', '/solutions', 'solutions-create', ['admin']),
  v1('GET', '/solutions', 'solutions-list', ['admin']),
  v1('POST', '/keys', 'keys-create', ['admin']),
  v1('GET', '/keys', 'keys-list', ['admin']),
  v1('DELETE', '/keys/{keyId}', 'keys-delete', ['admin']),

  v1('POST', '/streams', 'streams-create', ['streams:write']),
  v1('GET', '/streams', 'streams-list', ['streams:read']),
  v1('GET', '/streams/{id}', 'streams-get', ['streams:read']),
  v1('PUT', '/streams/{id}', 'streams-put', ['streams:write']),
  v1('PATCH', '/streams/{id}', 'streams-patch', ['streams:write']),
  v1('DELETE', '/streams/{id}', 'streams-delete', ['streams:write']),

  // --- versions, export/import, deploy (issue 3) ---

  // --- packets, sessions, metadata (issue 4) ---

  // --- executions and datasets (issue 5) ---

  // --- runs, offsets, stats, aggregation stores (issue 6) ---

  // --- stream groups (issue 7) ---
  v1('POST', '/stream-groups', 'stream-groups-create', ['runs:write']),
  v1('GET', '/stream-groups', 'stream-groups-list', ['streams:read']),
  v1('GET', '/stream-groups/{id}', 'stream-groups-get', ['streams:read']),
  v1('PUT', '/stream-groups/{id}', 'stream-groups-put', ['runs:write']),
  v1('DELETE', '/stream-groups/{id}', 'stream-groups-delete', ['runs:write']),

  // --- connections (issue 8) ---
  v1('POST', '/connections', 'connections-create', ['streams:write'], { needs: ['secrets'] }),
  v1('GET', '/connections', 'connections-list', ['streams:read']),
  v1('GET', '/connections/{id}', 'connections-get', ['streams:read']),
  v1('PUT', '/connections/{id}', 'connections-put', ['streams:write'], { needs: ['secrets'] }),
  v1('DELETE', '/connections/{id}', 'connections-delete', ['streams:write'], { needs: ['secrets'] }),
  v1('POST', '/connections/{id}/ping', 'connections-ping', ['streams:read'], { needs: ['secrets'] }),

  // --- MODE SDS face (issue 4) ---

  // --- Domo face (issue 5) ---

  // --- DBConvert face (issue 8) ---
  dbc('GET', '/health', 'health', [], { auth: false }),
  dbc('POST', '/connections', 'connections-create', ['streams:write'], { needs: ['secrets'] }),
  dbc('GET', '/connections', 'connections-list', ['streams:read']),
  dbc('POST', '/connections/test', 'connections-test', ['streams:read']),
  dbc('GET', '/connections/{id}', 'connections-get', ['streams:read']),
  dbc('PUT', '/connections/{id}', 'connections-put', ['streams:write'], { needs: ['secrets'] }),
  dbc('DELETE', '/connections/{id}', 'connections-delete', ['streams:write'], { needs: ['secrets'] }),
  dbc('POST', '/connections/{id}/ping', 'connections-ping', ['streams:read'], { needs: ['secrets'] }),
  dbc('GET', '/stream-configs', 'configs-list', ['streams:read']),
  dbc('POST', '/stream-configs', 'configs-create', ['streams:write']),
  dbc('GET', '/stream-configs/{id}', 'configs-get', ['streams:read']),
  dbc('DELETE', '/stream-configs/{id}', 'configs-delete', ['streams:write']),
  dbc('PUT', '/stream-configs/{id}/clone', 'configs-clone', ['streams:write']),
  dbc('POST', '/stream-configs/{id}/start', 'streams-start', ['runs:write'], { needs: ['sfn'] }),
  dbc('GET', '/streams', 'streams-list', ['streams:read']),
  dbc('POST', '/streams/{id}/start', 'streams-start', ['runs:write'], { needs: ['sfn'] }),
  dbc('POST', '/streams/{id}/pause', 'streams-pause', ['runs:write'], { needs: ['sfn'] }),
  dbc('POST', '/streams/{id}/resume', 'streams-resume', ['runs:write'], { needs: ['sfn'] }),
  dbc('POST', '/streams/{id}/stop', 'streams-stop', ['runs:write'], { needs: ['sfn'] }),
  dbc('GET', '/streams/{id}/stats', 'streams-stats', ['streams:read']),
];

export const routeKey = (route: Pick<Route, 'method' | 'path'>) => `${route.method} ${route.path}`;

const byKey = new Map(routes.map((route) => [routeKey(route), route]));

export function routeByKey(key: string): Route | undefined {
  return byKey.get(key);
}
