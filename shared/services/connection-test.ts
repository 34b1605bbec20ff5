import * as z from 'zod/mini';
import { lazySchema } from '../model/validation.ts';
import { connectionInput } from './connections.ts';

export { testConnection } from './connections.ts';

/** A connection without a name yet: what DBConvert's connection test takes. */
export const unsavedConnection = /* @__PURE__ */ lazySchema(() => z.extend(connectionInput(), { name: z._default(connectionInput().shape.name, 'test') }));
