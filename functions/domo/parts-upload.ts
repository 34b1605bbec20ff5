import { httpHandler } from '#shared/http/handler.ts';
import { uploadDomoPart } from './part.ts';

/** PUT .../executions/{executionId}/part/{partId}: headerless CSV, gzip accepted. */
export const handler = httpHandler((request) => uploadDomoPart(request, request.params.executionId));
