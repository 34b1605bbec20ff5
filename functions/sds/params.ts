import * as z from 'zod/mini';
import type { ApiRequest } from '#shared/http/handler.ts';
import { modeStream } from '#shared/services/mode.ts';

/** Path parameters of the MODE face: homeId is an integer (400 otherwise). */
export const homePath = z.object({
  homeId: z.pipe(z.string().check(z.regex(/^\d{1,15}$/, 'homeId must be a non-negative integer')), z.transform(Number)),
  moduleId: z.string().check(z.minLength(1)),
});

/** The stream a `/homes/{homeId}/smartModules/{moduleId}/streams/{streamName}/...` request names (404 when unknown). */
export async function streamOf(request: ApiRequest) {
  const { homeId, moduleId } = request.paramsAs(z.catchall(homePath, z.unknown()));
  return modeStream(request.principal, homeId, moduleId, request.params.streamName);
}
