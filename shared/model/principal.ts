/** Who is calling: resolved from the API key by the authorizer. */
export const SCOPES = ['streams:read', 'streams:write', 'runs:write', 'data:read', 'data:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  keyId: string;
  solutionId: string;
  scopes: Scope[];
}

export function isAdmin(principal: Principal): boolean {
  return principal.scopes.includes('admin');
}

/** `admin` implies every scope. */
export function hasScopes(principal: Principal, required: readonly Scope[]): boolean {
  return isAdmin(principal) || required.every((scope) => principal.scopes.includes(scope));
}
