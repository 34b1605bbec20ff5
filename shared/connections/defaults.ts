/** Default server ports by connection type (no driver imports: cheap for every handler). */
export const DEFAULT_PORT = { postgresql: 5432, mysql: 3306, s3: 443 } as const;

/**
 * The port a connection reaches: an s3 endpoint given as a URL carries its own
 * (explicit, else its scheme's), which wins over `port`; otherwise `port`, else
 * the type's default.
 */
export function portOf(input: { type: keyof typeof DEFAULT_PORT; host?: string | null; port?: number | null }): number {
  if (input.type === 's3' && input.host && /^https?:\/\//i.test(input.host)) {
    try {
      const url = new URL(input.host);
      return Number(url.port) || (url.protocol === 'http:' ? 80 : 443);
    } catch {
      // not a URL after all: validation answers for it
    }
  }
  return input.port ?? DEFAULT_PORT[input.type];
}
