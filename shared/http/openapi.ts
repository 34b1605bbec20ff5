import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { routes, routeKey, type Route } from '#functions/routes.ts';
import { streamInput } from '../services/streams.ts';
import { groupInput } from '../services/groups.ts';

/**
 * The OpenAPI 3.1 document of every face, built from the route table (so no
 * route can be missing) plus the request and response schemas registered below.
 */
const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

const streamSchema = z
  .object({
    id: z.string(),
    solutionId: z.string(),
    namespace: z.string(),
    name: z.string(),
    description: z.string(),
    definition: z.record(z.string(), z.unknown()),
    revision: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    deployment: z.object({ phase: z.string(), version: z.string(), deployedAt: z.string() }).nullable(),
    activeRun: z.object({ id: z.string(), status: z.string() }).nullable(),
    httpEndpoints: z.array(z.object({ nodeId: z.string(), method: z.string(), url: z.string() })),
  })
  .meta({ id: 'Stream' });

const versionSchema = z
  .object({ version: z.string(), revision: z.number().int(), description: z.string(), createdAt: z.string() })
  .meta({ id: 'StreamVersion' });

const exportSchema = z
  .object({
    format: z.literal('sluice.stream/v1'),
    name: z.string(),
    namespace: z.string(),
    description: z.string(),
    version: z.string(),
    definition: z.record(z.string(), z.unknown()),
    exportedAt: z.string(),
  })
  .meta({ id: 'StreamExport' });

const nodeRef = z.object({ id: z.string(), type: z.string(), name: z.string().optional() });
const edgeRef = z.object({ from: z.string(), to: z.string() });
const versionDiffSchema = z
  .object({
    from: z.object({ version: z.string(), revision: z.number().int() }),
    to: z.object({ version: z.string(), revision: z.number().int() }),
    identical: z.boolean(),
    nodes: z.object({ added: z.array(nodeRef), removed: z.array(nodeRef), changed: z.array(nodeRef.extend({ fields: z.array(z.string()) })) }),
    edges: z.object({ added: z.array(edgeRef), removed: z.array(edgeRef) }),
    nodeGroups: z.object({ added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()) }),
    settings: z.object({ changed: z.array(z.object({ path: z.string(), from: z.unknown(), to: z.unknown() })) }),
    mode: z.object({ changed: z.boolean(), from: z.string(), to: z.string() }),
    schedule: z.object({ changed: z.boolean(), from: z.unknown(), to: z.unknown() }),
  })
  .meta({ id: 'StreamVersionDiff' });

const deploymentSchema = z
  .object({
    streamId: z.string(),
    phase: z.enum(['deployed', 'undeployed']),
    version: z.string(),
    deployedAt: z.string(),
    undeployedAt: z.string().optional(),
  })
  .meta({ id: 'Deployment' });

const listOf = (item: z.ZodType) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

interface RouteDoc {
  summary: string;
  body?: z.ZodType;
  response?: z.ZodType;
}

/** Schemas per route; a route without an entry still appears, with its path, auth and a generic answer. */
export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'GET /v1/health': { summary: 'Liveness and version', response: z.object({ status: z.literal('ok'), version: z.string() }) },
  'GET /v1/openapi.json': { summary: 'This document' },
  'POST /v1/solutions': { summary: 'Create a solution (tenant)', body: z.object({ name: z.string() }) },
  'GET /v1/solutions': { summary: 'List solutions' },
  'POST /v1/keys': {
    summary: 'Create an API key; the only answer that shows the key',
    body: z.object({ name: z.string(), scopes: z.array(z.string()), solutionId: z.string().optional() }),
  },
  'GET /v1/keys': { summary: 'List API keys (never their values)' },
  'DELETE /v1/keys/{keyId}': { summary: 'Revoke an API key at once' },
  'POST /v1/streams': { summary: 'Create a stream', body: streamInput, response: streamSchema },
  'GET /v1/streams': { summary: 'List streams with filters', response: listOf(streamSchema) },
  'GET /v1/streams/{id}': { summary: 'Get a stream (?fields=, ?version=)', response: streamSchema },
  'PUT /v1/streams/{id}': { summary: 'Replace a stream (autosaves; If-Match)', body: streamInput, response: streamSchema },
  'PATCH /v1/streams/{id}': { summary: 'Merge-patch a stream (autosaves; If-Match)', response: streamSchema },
  'DELETE /v1/streams/{id}': { summary: 'Delete a stream (409 while running)' },

  // --- versions, export/import, deploy (issue 3) ---
  'GET /v1/streams/{id}/versions': {
    summary: 'List the autosaved version, then every tag oldest first (paginated)',
    response: z.object({
      items: z.array(
        z.object({
          version: z.string(),
          autosaved: z.literal(true).optional(),
          revision: z.number().int(),
          description: z.string().optional(),
          createdAt: z.string().optional(),
          updatedAt: z.string().optional(),
        }),
      ),
      nextCursor: z.string().nullable(),
    }),
  },
  'POST /v1/streams/{id}/versions': {
    summary: 'Tag the autosaved definition as an immutable version (409: duplicate tag or the 101st tag; Idempotency-Key)',
    body: z.object({ tag: z.string().meta({ description: '1-64 letters, digits, . _ -; not autosave' }), description: z.string().optional() }),
    response: versionSchema,
  },
  'GET /v1/streams/{id}/versions/{a}/diff/{b}': {
    summary: 'What changed from version a to version b (autosave or tags; 404 for an unknown one)',
    response: versionDiffSchema,
  },
  'GET /v1/streams/{id}/export': {
    summary: 'Export one version (?version=, default autosave) as a self-contained document (Content-Disposition: attachment)',
    response: exportSchema,
  },
  'POST /v1/streams/import': {
    summary:
      'Import an export document (+ optional tag). ?onConflict=fail|overwrite|create-new|skip (default fail: 409), ' +
      '?allowNodeDeletions=true|false (default false: an overwrite dropping nodes is 409 naming them), ' +
      '?solutionId= (admin keys only; other keys get 403 for a solution not their own). 201 created/renamed, 200 overwritten/skipped. ' +
      'Idempotency-Key honoured.',
    body: exportSchema.extend({ tag: z.string().optional(), exportedAt: z.string().optional(), version: z.string().optional() }),
    response: z.object({ result: z.enum(['created', 'overwritten', 'renamed', 'skipped']), stream: streamSchema }),
  },
  'POST /v1/streams/{id}/deploy': {
    summary:
      'Deploy a tag (400 for autosave, for an unknown tag, or when a referenced stream or connection does not exist in the solution); arms its schedule',
    body: z.object({ version: z.string() }),
    response: deploymentSchema,
  },
  'POST /v1/streams/{id}/undeploy': {
    summary: 'Undeploy (409 while a run is active or if never deployed; repeating it answers the same deployment); disarms the schedule',
    response: deploymentSchema,
  },

  // --- packets, sessions, metadata, MODE face (issue 4) ---

  // --- executions, datasets, Domo face (issue 5) ---

  // --- runs, offsets, stats (issue 6) ---

  // --- stream groups (issue 7) ---
  'POST /v1/stream-groups': { summary: 'Create a stream group (ordered streams, optional schedule)', body: groupInput },
  'GET /v1/stream-groups': { summary: 'List stream groups' },
  'GET /v1/stream-groups/{id}': { summary: 'Get a stream group' },
  'PUT /v1/stream-groups/{id}': { summary: 'Replace a stream group (If-Match)', body: groupInput },
  'DELETE /v1/stream-groups/{id}': { summary: 'Delete a stream group (409 while running)' },

  // --- connections, DBConvert face (issue 8) ---
};

const FACE_TAG = { native: 'Sluice', domo: 'Domo Streams', sds: 'MODE SDS', dbconvert: 'DBConvert Streams' } as const;

function operation(route: Route): ZodOpenApiOperationObject {
  const doc = ROUTE_DOCS[routeKey(route)];
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  return {
    operationId: route.handler.replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase()),
    summary: doc?.summary ?? `${route.method} ${route.path}`,
    tags: [FACE_TAG[route.face]],
    security: route.auth === false ? [] : [{ apiKey: [] }, { bearer: [] }],
    'x-sluice-scopes': route.scopes,
    requestParams: params.length ? { path: z.object(Object.fromEntries(params.map((p) => [p, z.string()]))) } : undefined,
    requestBody: doc?.body ? { content: { 'application/json': { schema: doc.body } } } : undefined,
    responses: {
      default: { description: 'Success', content: doc?.response ? { 'application/json': { schema: doc.response } } : undefined },
      '4XX': { description: 'Client error (native face shown; each face has its vendor error body)', content: { 'application/json': { schema: errorSchema } } },
    },
  } as ZodOpenApiOperationObject;
}

export function openApiDocument() {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(route);
  }
  return createDocument({
    openapi: '3.1.0',
    info: { title: 'Sluice', version: process.env.SLUICE_VERSION ?? 'dev', description: 'One stream-management core, four API faces.' },
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
    },
    paths,
  });
}
