import * as z from 'zod/mini';
import { lazySchema } from './validation.ts';

/** The autosaved version's name: the stream item itself, never a tag. */
export const AUTOSAVE = 'autosave';

/**
 * Tag names: 1 to 64 letters, digits, `.`, `_` or `-` (they appear in paths
 * such as `/versions/{a}/diff/{b}`), and never `autosave` in any casing.
 */
export const tagName = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1, 'a tag is 1 to 64 characters'), z.maxLength(64, 'a tag is 1 to 64 characters'), z.regex(/^[A-Za-z0-9._-]+$/, 'a tag is letters, digits, ., _ or -'), z.refine((tag) => tag.toLowerCase() !== AUTOSAVE, `${AUTOSAVE} is the autosaved version and cannot be a tag`)));

/** A version reference in a query or path: `autosave` or a tag. */
export const versionRef = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.maxLength(64)));

export const EXPORT_FORMAT = 'sluice.stream/v1';
