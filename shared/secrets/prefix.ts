/** Connection secrets live under this name prefix; the IAM grants of infra/constructs/access.ts are scoped to it. */
export const SECRETS_PREFIX = 'sluice';
