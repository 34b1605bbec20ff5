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
  v1('DELETE', '/streams/{id}', 'streams-delete', ['streams:write'], { needs: ['scheduler', 'sfn'] }),

  // --- versions, export/import, deploy (issue 3) ---
  v1('GET', '/streams/{id}/versions', 'versions-list', ['streams:read']),
  v1('POST', '/streams/{id}/versions', 'versions-create', ['streams:write']),
  v1('GET', '/streams/{id}/versions/{a}/diff/{b}', 'versions-diff', ['streams:read']),
  v1('GET', '/streams/{id}/export', 'streams-export', ['streams:read']),
  v1('POST', '/streams/import', 'streams-import', ['streams:write']),
  v1('POST', '/streams/{id}/deploy', 'streams-deploy', ['runs:write'], { needs: ['scheduler'] }),
  v1('POST', '/streams/{id}/undeploy', 'streams-undeploy', ['runs:write'], { needs: ['scheduler'] }),

  // --- packets, sessions, metadata (issue 4) ---
  v1('POST', '/streams/{id}/packets', 'packets-append', ['data:write']),
  v1('POST', '/streams/{id}/packets/batch', 'packets-batch', ['data:write']),
  v1('GET', '/streams/{id}/packets', 'packets-list', ['data:read']),
  v1('GET', '/streams/{id}/status', 'data-status', ['data:read']),
  v1('PUT', '/streams/{id}/owner', 'owner-put', ['data:write']),
  v1('DELETE', '/streams/{id}/owner', 'owner-delete', ['data:write']),
  v1('GET', '/streams/{id}/sessions', 'sessions-list', ['data:read']),
  v1('POST', '/streams/{id}/sessions', 'sessions-create', ['data:write']),
  v1('POST', '/streams/{id}/sessions/open', 'sessions-open', ['data:write']),
  v1('POST', '/streams/{id}/sessions/close', 'sessions-close', ['data:write']),
  v1('GET', '/streams/{id}/sessions/{sessionId}', 'sessions-get', ['data:read']),
  v1('DELETE', '/streams/{id}/sessions/{sessionId}', 'sessions-delete', ['data:write']),
  v1('PUT', '/streams/{id}/metadata/{packetIndex}', 'metadata-put', ['data:write']),
  v1('GET', '/streams/{id}/metadata', 'metadata-list', ['data:read']),
  v1('GET', '/streams/{id}/data', 'data-get', ['data:read']),

  // --- executions and datasets (issue 5) ---
  v1('POST', '/streams/{id}/executions', 'executions-create', ['data:write']),
  v1('GET', '/streams/{id}/executions', 'executions-list', ['data:read']),
  v1('GET', '/streams/{id}/executions/{eid}', 'executions-get', ['data:read']),
  v1('PUT', '/streams/{id}/executions/{eid}/parts/{partId}', 'parts-put', ['data:write']),
  v1('POST', '/streams/{id}/executions/{eid}/parts/{partId}/upload-url', 'parts-upload-url', ['data:write']),
  v1('POST', '/streams/{id}/executions/{eid}/commit', 'executions-commit', ['data:write']),
  v1('POST', '/streams/{id}/executions/{eid}/abort', 'executions-abort', ['data:write']),
  v1('GET', '/streams/{id}/dataset', 'dataset-get', ['data:read']),
  v1('GET', '/streams/{id}/dataset/data', 'dataset-data', ['data:read']),

  // --- runs, offsets, stats, aggregation stores (issue 6) ---
  v1('POST', '/streams/{id}/start', 'streams-start', ['runs:write'], { needs: ['sfn'] }),
  v1('POST', '/streams/{id}/stop', 'streams-stop', ['runs:write'], { needs: ['sfn'] }),
  v1('GET', '/streams/{id}/runs', 'streams-runs-list', ['streams:read']),
  v1('GET', '/streams/{id}/offsets', 'streams-offsets-get', ['streams:read']),
  v1('POST', '/streams/{id}/offsets/reset', 'streams-offsets-reset', ['runs:write']),
  v1('GET', '/runs/{id}', 'runs-get', ['streams:read']),
  v1('POST', '/runs/{id}/pause', 'runs-pause', ['runs:write'], { needs: ['sfn'] }),
  v1('POST', '/runs/{id}/resume', 'runs-resume', ['runs:write'], { needs: ['sfn'] }),
  v1('POST', '/runs/{id}/stop', 'runs-stop', ['runs:write'], { needs: ['sfn'] }),
  v1('GET', '/runs/{id}/stats', 'runs-stats', ['streams:read']),
  v1('GET', '/stats', 'stats-list', ['streams:read']),
  v1('GET', '/aggregation-stores/{name}/items', 'aggregation-store-items', ['data:read']),

  // --- stream groups (issue 7) ---
  v1('POST', '/stream-groups', 'stream-groups-create', ['runs:write'], { needs: ['scheduler'] }),
  v1('GET', '/stream-groups', 'stream-groups-list', ['streams:read']),
  v1('GET', '/stream-groups/{id}', 'stream-groups-get', ['streams:read']),
  v1('PUT', '/stream-groups/{id}', 'stream-groups-put', ['runs:write'], { needs: ['scheduler'] }),
  v1('DELETE', '/stream-groups/{id}', 'stream-groups-delete', ['runs:write'], { needs: ['scheduler', 'sfn'] }),
  v1('POST', '/stream-groups/{id}/start', 'stream-groups-start', ['runs:write'], { needs: ['sfn'] }),
  v1('POST', '/stream-groups/{id}/stop', 'stream-groups-stop', ['runs:write'], { needs: ['sfn'] }),
  v1('POST', '/stream-groups/{id}/resume', 'stream-groups-resume', ['runs:write'], { needs: ['sfn'] }),
  v1('GET', '/stream-groups/{id}/runs', 'stream-groups-runs-list', ['streams:read']),
  v1('GET', '/group-runs/{id}', 'group-runs-get', ['streams:read']),

  // --- connections (issue 8) ---
  v1('POST', '/connections', 'connections-create', ['streams:write'], { needs: ['secrets'] }),
  v1('GET', '/connections', 'connections-list', ['streams:read']),
  v1('GET', '/connections/{id}', 'connections-get', ['streams:read']),
  v1('PUT', '/connections/{id}', 'connections-put', ['streams:write'], { needs: ['secrets'] }),
  v1('DELETE', '/connections/{id}', 'connections-delete', ['streams:write'], { needs: ['secrets'] }),
  v1('POST', '/connections/{id}/ping', 'connections-ping', ['streams:read'], { needs: ['secrets'] }),

  // --- MODE SDS face (issue 4) ---
  sds('GET', '', 'streams-list', ['streams:read']),
  sds('GET', '/{streamName}', 'streams-get', ['streams:read']),
  sds('GET', '/{streamName}/status', 'status', ['data:read']),
  sds('GET', '/{streamName}/sessions', 'sessions-list', ['data:read']),
  sds('POST', '/{streamName}/sessions', 'sessions-create', ['data:write']),
  sds('GET', '/{streamName}/sessions/{sessionId}', 'sessions-get', ['data:read']),
  sds('DELETE', '/{streamName}/sessions/{sessionId}', 'sessions-delete', ['data:write']),
  sds('GET', '/{streamName}/metadata', 'metadata-list', ['data:read']),
  sds('GET', '/{streamName}/data', 'data', ['data:read']),

  // --- Domo face (issue 5) ---
  domo('POST', '', 'streams-create', ['streams:write'], { needs: ['scheduler'] }),
  domo('GET', '/search', 'streams-search', ['streams:read']),
  domo('GET', '/{id}', 'streams-get', ['streams:read']),
  domo('PUT', '/{id}', 'streams-update', ['streams:write']),
  domo('DELETE', '/{id}', 'streams-delete', ['streams:write'], { needs: ['scheduler', 'sfn'] }),
  domo('POST', '/{id}/executions', 'executions-create', ['data:write']),
  domo('GET', '/{id}/executions', 'executions-list', ['data:read']),
  domo('GET', '/{id}/executions/{executionId}', 'executions-get', ['data:read']),
  domo('PUT', '/{id}/executions/{executionId}', 'executions-update', ['data:write']),
  domo('DELETE', '/{id}/executions/{executionId}', 'executions-delete', ['data:write']),
  domo('PUT', '/{id}/executions/{executionId}/part/{partId}', 'parts-upload', ['data:write']),
  domo('PUT', '/{id}/data/{dataId}/parts/{partId}', 'data-parts-upload', ['data:write']),
  domo('PUT', '/{id}/data/{dataId}/{action}', 'data-finalize', ['data:write']),

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
  dbc('DELETE', '/stream-configs/{id}', 'configs-delete', ['streams:write'], { needs: ['scheduler', 'sfn'] }),
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

/** A row of the Domo Streams face (seed 001) under /api/data/v1/streams (hoisted, used above). */
function domo(method: Method, path: string, handler: string, scopes: Scope[], extra: Partial<Route> = {}): Route {
  return { method, path: `/api/data/v1/streams${path}`, handler: `domo/${handler}`, face: 'domo', scopes, ...extra };
}

/** A MODE SDS face row under `/homes/{homeId}/smartModules/{moduleId}/streams` (hoisted for the table above). */
function sds(method: Method, path: string, handler: string, scopes: Scope[]): Route {
  return { method, path: `/homes/{homeId}/smartModules/{moduleId}/streams${path}`, handler: `sds/${handler}`, face: 'sds', scopes };
}
