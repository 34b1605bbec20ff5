/** What run.ts hands each bench module: the local runtime it started. */
export interface BenchContext {
  url: string;
  adminKey: string;
  env: Record<string, string>;
}

export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
}

export type BenchModule = (ctx: BenchContext) => Promise<{ name: string; rows: BenchRow[] }>;

interface BenchResponse {
  status: number;
  headers: Headers;
  body: any;
}

/**
 * HTTP calls to the local runtime for the bench modules. A 4xx or 5xx throws,
 * so a bench never times a failure; redirects are not followed.
 */
export function benchClient(ctx: BenchContext) {
  async function call(key: string, method: string, path: string, options: { body?: unknown; raw?: Buffer; type?: string } = {}): Promise<BenchResponse> {
    const json = options.body !== undefined;
    const response = await fetch(`${ctx.url}${path}`, {
      method,
      headers: { 'x-api-key': key, ...(json || options.raw ? { 'content-type': options.type ?? 'application/json' } : {}) },
      body: options.raw ?? (json ? JSON.stringify(options.body) : undefined),
      redirect: 'manual',
    });
    const text = await response.text();
    if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  /** A new solution and a key of it with these scopes. */
  async function solutionKey(name: string, scopes: string[]): Promise<string> {
    const solution = (await call(ctx.adminKey, 'POST', '/v1/solutions', { body: { name } })).body;
    return (await call(ctx.adminKey, 'POST', '/v1/keys', { body: { name: 'bench', scopes, solutionId: solution.id } })).body.key;
  }

  return { call, solutionKey };
}
