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

/** Creates or replaces the secret; returns its name (the reference stored on the connection item). */
export async function putConnectionSecret(solutionId: string, connectionId: string, secret: ConnectionSecret): Promise<string> {
  const name = connectionSecretName(solutionId, connectionId);
  const SecretString = JSON.stringify(secret);
  try {
    await secretsClient.send(new CreateSecretCommand({ Name: name, SecretString, Description: `Sluice connection ${connectionId}` }));
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    await secretsClient.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
  }
  return name;
}

export async function getConnectionSecret(secretRef: string): Promise<ConnectionSecret | undefined> {
  try {
    const result = await secretsClient.send(new GetSecretValueCommand({ SecretId: secretRef }));
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
