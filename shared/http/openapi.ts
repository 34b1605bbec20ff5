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
