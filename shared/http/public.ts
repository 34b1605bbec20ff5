import type { ApiHandler } from './handler.ts';
import { requestIdOf, toResult, type Reply } from './reply.ts';

/**
 * For the public GETs without input (health checks, the OpenAPI document):
 * monitors call them often, each cold start included, and they cannot fail
 * on input, so there is nothing to check and no key to read. The answer has
 * the same headers as httpHandler's. httpHandler itself, which checks the
 * route, logs and shapes errors for the face, is loaded only if `answer` throws.
 */
export function publicHandler(answer: () => Promise<Reply>): ApiHandler {
  return async (event, context) => {
    try {
      return toResult(await answer(), requestIdOf(event));
    } catch (error) {
      const { httpHandler } = await import('./handler.ts');
      return httpHandler(() => Promise.reject(error))(event, context);
    }
  };
}
