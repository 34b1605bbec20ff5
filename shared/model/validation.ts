import type { z } from 'zod/mini';
import { invalid, type ErrorDetail } from './errors.ts';

/** `definition.nodes[2].type` from zod's ['definition', 'nodes', 2, 'type']. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

export function issuesToDetails(issues: readonly z.core.$ZodIssue[], prefix = ''): ErrorDetail[] {
  return issues.map((issue) => ({ path: formatPath(issue.path, prefix), message: issue.message }));
}

/** Parses or throws a 400 whose details name every bad field. */
export function parseWith<S extends z.ZodMiniType>(schema: S, value: unknown, what: string, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = issuesToDetails(result.error.issues, prefix);
  const first = details[0];
  throw invalid(`${what} is invalid${first ? `: ${first.path ? `${first.path}: ` : ''}${first.message}` : ''}`, details);
}

/**
 * A schema built on first use. Call sites mark the call pure
 * (`/* @__PURE__ *\/ lazySchema(...)`), so a bundle that never validates with
 * the schema drops it together with the zod code only it needs; a handler that
 * does builds it once, on its first request.
 */
export function lazySchema<S>(build: () => S): () => S {
  let schema: S | undefined;
  return () => (schema ??= build());
}
