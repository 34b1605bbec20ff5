import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SECRETS_PREFIX } from './prefix.ts';

/**
 * Connection secrets in AWS Secrets Manager, one secret per connection named
 * `{SECRETS_PREFIX}/{solutionId}/connections/{connectionId}`. The endpoint
 * comes from AWS_ENDPOINT_URL_SECRETS_MANAGER (the local runtime's emulator)
 * or the SDK default in AWS. Secret values never leave this module except to
 * the database drivers, and are never logged.
 */
// Pure, so a bundle that never sends through it does not construct it (docs/decisions.md, "Cold start").
export const secretsClient = /* @__PURE__ */ new SecretsManagerClient({});

export const connectionSecretName = (solutionId: string, connectionId: string) =>
  `${SECRETS_PREFIX}/${solutionId}/connections/${connectionId}`;

export interface ConnectionSecret {
  password: string;
}

/** Where a connection's password is: its secret, and the version of it the connection item was written with. */
export interface SecretPointer {
  secretRef: string;
  secretVersion: string;
}

/**
 * Writes the password as a new version of the connection's secret (creating the
 * secret on the first one) and answers where it is. The connection item then
 * points at that version, so the password in use is always the one written
 * with the item's current revision: a write whose item update is refused, or
 * that fails half way, leaves the item on its old version.
 */
export async function putConnectionSecret(solutionId: string, connectionId: string, secret: ConnectionSecret): Promise<SecretPointer> {
  const name = connectionSecretName(solutionId, connectionId);
  const SecretString = JSON.stringify(secret);
  try {
    const created = await secretsClient.send(new CreateSecretCommand({ Name: name, SecretString, Description: `Sluice connection ${connectionId}` }));
    return { secretRef: name, secretVersion: created.VersionId! };
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    const put = await secretsClient.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
    return { secretRef: name, secretVersion: put.VersionId! };
  }
}

/** The secret's value: the given version, or the current one for connections written before versions were recorded. */
export async function getConnectionSecret(secretRef: string, secretVersion?: string | null): Promise<ConnectionSecret | undefined> {
  try {
    const result = await secretsClient.send(new GetSecretValueCommand({ SecretId: secretRef, ...(secretVersion ? { VersionId: secretVersion } : {}) }));
    return result.SecretString ? (JSON.parse(result.SecretString) as ConnectionSecret) : undefined;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

export async function deleteConnectionSecret(secretRef: string): Promise<void> {
  try {
    await secretsClient.send(new DeleteSecretCommand({ SecretId: secretRef, ForceDeleteWithoutRecovery: true }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
}
