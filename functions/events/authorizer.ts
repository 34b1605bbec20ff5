import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { authenticate, presentedKey } from '#shared/services/keys.ts';

type AuthContext = { keyId?: string; solutionId?: string; scopes?: string };

/**
 * The HTTP API REQUEST authorizer. It resolves the API key to its principal and
 * always lets the request through: the handler answers 401/403 itself so each
 * face gets its own error body (API Gateway's authorizer denials cannot be
 * shaped). Results are not cached, so a deleted key stops working at once.
 */
export async function handler(event: APIGatewayRequestAuthorizerEventV2): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthContext>> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const principal = await authenticate(presentedKey(headers));
  if (!principal) return { isAuthorized: true, context: {} };
  return {
    isAuthorized: true,
    context: { keyId: principal.keyId, solutionId: principal.solutionId, scopes: principal.scopes.join(' ') },
  };
}
