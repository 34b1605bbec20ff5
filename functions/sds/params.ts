import { z } from 'zod';
import type { ApiRequest } from '#shared/http/handler.ts';
import { modeStream } from '#shared/services/mode.ts';

/** Path parameters of the MODE face: homeId is an integer (400 otherwise). */
export const homePath = z.object({
  homeId: z.string().regex(/^\d{1,15}$/, 'homeId must be a non-negative integer').transform(Number),
  moduleId: z.string().min(1),
});

/** The stream a `/homes/{homeId}/smartModules/{moduleId}/streams/{streamName}/...` request names (404 when unknown). */
export async function streamOf(request: ApiRequest) {
  const { homeId, moduleId } = request.paramsAs(homePath.passthrough());
  return modeStream(request.principal, homeId, moduleId, request.params.streamName);
}
