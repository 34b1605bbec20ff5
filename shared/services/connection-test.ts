import * as z from 'zod/mini';
import type { ApiRequest } from '../http/handler.ts';
import type { PingResult } from '../connections/drivers.ts';
import { lazySchema } from '../model/validation.ts';
import { connectionInput, testConnection } from './connections.ts';

/** A connection without a name yet. */
const unsavedConnection = /* @__PURE__ */ lazySchema(() => z.extend(connectionInput(), { name: z._default(connectionInput().shape.name, 'test') }));

/** Validates the body as an unsaved connection and pings it. */
export const testUnsavedConnection = (request: ApiRequest): Promise<PingResult> => testConnection(request.json(unsavedConnection()));
