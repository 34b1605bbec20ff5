import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod/mini';
import type { Route } from '#functions/routes.ts';
import { SluiceError, invalid, preconditionFailed, tooLarge, unauthorized, forbidden } from '../model/errors.ts';
import { hasScopes, type Principal } from '../model/principal.ts';
import type { Face } from './faces.ts';
import { requestIdOf, toResult, type Reply } from './reply.ts';
import { parseWith } from '../model/validation.ts';

/** Inline bodies above this are refused with 413 (API.md "Bodies"). */
export const MAX_INLINE_BODY = 5 * 1024 * 1024;

export interface ApiRequest {
  event: APIGatewayProxyEventV2;
  route: Route;
  requestId: string;
  /** Present on every route that needs a key. */
  principal: Principal;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  /** `https://host` of this API, for links in answers. */
  baseUrl: string;
  rawBody(): Buffer;
  json<S extends z.ZodMiniType>(schema: S): z.output<S>;
  queryAs<S extends z.ZodMiniType>(schema: S): z.output<S>;
  paramsAs<S extends z.ZodMiniType>(schema: S): z.output<S>;
  /** The revision an If-Match header asks for, if any. */
  ifMatch(): number | undefined;
}

function lowerHeaders(headers: Record<string, string | undefined> | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function principalOf(event: APIGatewayProxyEventV2): Principal | undefined {
  const context = (event.requestContext as { authorizer?: { lambda?: Record<string, unknown> } }).authorizer?.lambda;
  if (!context?.solutionId || !context.keyId) return undefined;
  const scopes = typeof context.scopes === 'string' ? context.scopes.split(' ').filter(Boolean) : [];
  return { keyId: String(context.keyId), solutionId: String(context.solutionId), scopes: scopes as Principal['scopes'] };
}

function buildRequest(event: APIGatewayProxyEventV2, route: Route): ApiRequest {
  const headers = lowerHeaders(event.headers);
  const requestId = requestIdOf(event);
  let body: Buffer | undefined;
  const rawBody = () => {
    body ??= event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
    if (body.length > MAX_INLINE_BODY) throw tooLarge(`the body is ${body.length} bytes; inline bodies are limited to ${MAX_INLINE_BODY} bytes`);
    return body;
  };
  return {
    event,
    route,
    requestId,
    principal: principalOf(event)!,
    params: (event.pathParameters ?? {}) as Record<string, string>,
    query: event.queryStringParameters ?? {},
    headers,
    baseUrl: `${headers['x-forwarded-proto'] ?? 'https'}://${event.requestContext?.domainName ?? headers.host ?? 'localhost'}`,
    rawBody,
    json(schema) {
      const raw = rawBody();
      if (raw.length === 0) return parseWith(schema, {}, 'the body');
      let value: unknown;
      try {
        value = JSON.parse(raw.toString('utf8'));
      } catch (error) {
        throw invalid(`the body is not valid JSON: ${(error as Error).message}`);
      }
      return parseWith(schema, value, 'the body');
    },
    queryAs: (schema) => parseWith(schema, event.queryStringParameters ?? {}, 'the query'),
    paramsAs: (schema) => parseWith(schema, event.pathParameters ?? {}, 'the path'),
    ifMatch() {
      const value = headers['if-match'];
      if (value === undefined || value.trim() === '*') return undefined;
      const match = /^(?:W\/)?"?(\d+)"?$/.exec(value.trim());
      if (!match) throw preconditionFailed(`If-Match ${value} is not an ETag of this resource`);
      return Number(match[1]);
    },
  };
}

/**
 * This bundle's rows of the route table by route key, as JSON, inlined by
 * esbuild when a handler is bundled (infra/constructs/bundling.ts), so a
 * deployed handler neither carries nor builds the whole table. Undefined when
 * running unbundled (local runtime, tests): then the table itself is imported.
 * A string rather than an object literal so that esbuild can fold the `typeof`
 * below and drop the import from bundles.
 */
declare const SLUICE_ROUTES: string | undefined;

let routeLookup: Promise<(key: string) => Route | undefined> | undefined;

function findRoute(key: string): Promise<Route | undefined> {
  if (!routeLookup) {
    if (typeof SLUICE_ROUTES === 'undefined') {
      routeLookup = import('#functions/routes.ts').then((table) => table.routeByKey);
    } else {
      const own = new Map(Object.entries(JSON.parse(SLUICE_ROUTES) as Record<string, Route>));
      routeLookup = Promise.resolve((wanted: string) => own.get(wanted));
    }
  }
  return routeLookup.then((lookup) => lookup(key));
}

export interface HandlerOptions {
  /** POSTs that create or start something honour Idempotency-Key. */
  idempotent?: boolean;
}

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Wraps an endpoint: finds its route (face and scopes) by routeKey, checks the
 * caller, builds the request, maps thrown SluiceErrors to the face's error body.
 */
export function httpHandler(fn: (request: ApiRequest) => Promise<Reply>, options: HandlerOptions = {}): ApiHandler {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const route = await findRoute(event.routeKey);
    const requestId = requestIdOf(event);
    const face: Face = route?.face ?? 'native';
    try {
      if (!route) throw new SluiceError('not_found', `no route ${event.routeKey}`);
      const request = buildRequest(event, route);
      if (route.auth !== false) {
        if (!request.principal) throw unauthorized();
        if (!hasScopes(request.principal, route.scopes)) {
          throw forbidden(`this key lacks the scope ${route.scopes.join(' and ')} that ${route.method} ${route.path} needs`);
        }
      }
      // Loaded only by requests that carry the header.
      const reply =
        options.idempotent && request.headers['idempotency-key'] !== undefined
          ? await (await import('./idempotency.ts')).withIdempotency(request, () => fn(request))
          : await fn(request);
      return toResult(reply, requestId);
    } catch (error) {
      // The error path (face shapes, logging) is a chunk of its own, loaded by the first failing request.
      return (await import('./error-result.ts')).errorResult(error, face, requestId);
    }
  };
}
