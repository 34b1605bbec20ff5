import { monotonicFactory } from 'ulid';

/** Prefixes of every id Sluice hands out (API.md "IDs"). */
export const ID_PREFIX = {
  solution: 'sol',
  key: 'key',
  stream: 'stm',
  run: 'run',
  group: 'grp',
  groupRun: 'grun',
  execution: 'exe',
  session: 'ses',
  connection: 'conn',
  request: 'req',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

// Made on first use: detecting the PRNG at import would cost every cold start.
let nextUlid: (() => string) | undefined;

export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}_${(nextUlid ??= monotonicFactory())()}`;
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** True when `id` is a well-formed id of that kind; never throws. */
export function isId(kind: IdKind, id: string): boolean {
  const prefix = `${ID_PREFIX[kind]}_`;
  return id.startsWith(prefix) && ULID.test(id.slice(prefix.length));
}
