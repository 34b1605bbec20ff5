import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { routeKey, type Route } from '#functions/routes.ts';

/**
 * The local stand-in for API Gateway HTTP API: the rows of routes.ts, payload
 * format 2.0 events, the REQUEST authorizer run before every keyed route, and
 * API Gateway's own answers for what never reaches a function.
 */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024; // API Gateway's payload limit
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+json)/i;

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  params: string[];
  literalSegments: number;
}

function compile(route: Route): CompiledRoute {
  const params: string[] = [];
  const segments = route.path.split('/').slice(1);
  const source = segments
    .map((segment) => {
      const param = /^\{(\w+)\+?\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(param[1]);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^/${source}$`), params, literalSegments: segments.filter((s) => !s.startsWith('{')).length };
}

function lambdaContext(name: string): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface GatewayOptions {
  port: number;
  routes: Route[];
  functionsDir: string;
}

export interface RunningGateway {
  url: string;
  server: Server;
  invoke(handlerModule: string, event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  // Most specific first, as API Gateway matches: more literal segments win.
  const compiled = options.routes.map(compile).sort((a, b) => b.literalSegments - a.literalSegments);
  const modules = new Map<string, Promise<LambdaHandler>>();
  const load = (module: string) => {
    if (!modules.has(module)) {
      modules.set(
        module,
        import(pathToFileURL(join(options.functionsDir, `${module}.ts`)).href).then((m) => m.handler as LambdaHandler),
      );
    }
    return modules.get(module)!;
  };
  const invoke = async (module: string, event: unknown) => (await load(module))(event, lambdaContext(module.replace(/\W/g, '-')));

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      console.error('gateway error', error);
      if (!res.headersSent) send(res, 500, { message: 'Internal Server Error' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = (req.method ?? 'GET').toUpperCase();
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE,OPTIONS',
        'access-control-allow-headers': 'authorization,content-type,x-api-key,if-match,idempotency-key,content-encoding',
        'access-control-max-age': '600',
      });
      return res.end();
    }
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, { message: 'Request Entity Too Large' });

    let match: { entry: CompiledRoute; values: string[] } | undefined;
    for (const entry of compiled) {
      if (entry.route.method !== method) continue;
      const found = entry.pattern.exec(url.pathname);
      if (found) {
        match = { entry, values: found.slice(1) };
        break;
      }
    }
    if (!match) return send(res, 404, { message: 'Not Found' });
    const { route } = match.entry;
    const event = buildEvent(req, url, body, route, match.entry.params, match.values);
    if (!event) return send(res, 400, { message: 'Bad Request' });

    if (route.auth !== false) {
      const decision = (await invoke('events/authorizer', { ...event, type: 'REQUEST', identitySource: [] })) as {
        isAuthorized: boolean;
        context?: Record<string, unknown>;
      };
      if (!decision?.isAuthorized) return send(res, 403, { message: 'Forbidden' });
      (event.requestContext as unknown as Record<string, unknown>).authorizer = { lambda: decision.context ?? {} };
    }
    const result = (await invoke(route.handler, event)) as APIGatewayProxyStructuredResultV2 | string | undefined;
    writeResult(res, result);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    invoke,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function buildEvent(req: IncomingMessage, url: URL, body: Buffer, route: Route, names: string[], values: string[]): APIGatewayProxyEventV2 | undefined {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  headers['x-forwarded-proto'] = 'http';
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const pathParameters: Record<string, string> = {};
  try {
    names.forEach((name, i) => (pathParameters[name] = decodeURIComponent(values[i])));
  } catch {
    return undefined;
  }
  const isText = TEXT_TYPES.test(headers['content-type'] ?? '') && !headers['content-encoding'];
  const now = new Date();
  return {
    version: '2.0',
    routeKey: routeKey(route),
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    cookies: headers.cookie?.split(';').map((c) => c.trim()),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: names.length ? pathParameters : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: route.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: routeKey(route),
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? (isText ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !isText,
  };
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2 | string | undefined) {
  // Payload 2.0: anything that is not a structured result is a 200 JSON body.
  if (result === undefined || typeof result !== 'object' || !('statusCode' in result)) {
    return send(res, 200, result ?? null);
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body);
}
