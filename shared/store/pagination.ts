import { invalid } from '../model/errors.ts';

export type Key = Record<string, unknown>;

/** Cursors are opaque to clients: the last returned item's key, base64url JSON. */
export function encodeCursor(key: Key | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null;
}

export function decodeCursor(cursor: string | undefined, expectedPartition?: { name: string; value: string }): Key | undefined {
  if (!cursor) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor is not a cursor this API returned', [{ path: 'cursor', message: 'malformed cursor' }]);
  }
  const valid =
    typeof key === 'object' && key !== null && !Array.isArray(key) && Object.values(key).every((v) => typeof v === 'string' || typeof v === 'number');
  if (!valid || (expectedPartition && (key as Key)[expectedPartition.name] !== expectedPartition.value)) {
    throw invalid('cursor is not a cursor this API returned', [{ path: 'cursor', message: 'malformed cursor' }]);
  }
  return key as Key;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Every item of a paginated listing, page after page (for bounded collections). */
export async function allPages<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}
