export interface Reply {
  status: number;
  /** JSON unless a Buffer or string is given. */
  body?: unknown;
  headers?: Record<string, string>;
}

export const ok = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, headers });
export const created = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 201, body, headers });
export const noContent = (): Reply => ({ status: 204 });
export const redirect = (location: string): Reply => ({ status: 302, headers: { location, 'cache-control': 'no-store' } });

export const etagOf = (revision: number) => `"${revision}"`;
