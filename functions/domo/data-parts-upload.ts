import { httpHandler } from '#shared/http/handler.ts';
import { uploadDomoPart } from './part.ts';

/** The legacy PUT .../data/{dataId}/parts/{partId}; dataId is the execution id. */
export const handler = httpHandler((request) => uploadDomoPart(request, request.params.dataId));
