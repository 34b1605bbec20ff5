import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { conflict } from '../model/errors.ts';
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
  /** This call created the secret (it did not exist). */
  created: boolean;
}

/**
 * Writes the password as a new version of the connection's secret, creating the
 * secret on the first one. A replacement is staged AWSPENDING, so the current
 * version (what a connection item written before versions were recorded reads)
 * does not move. The connection item then points at the new version, and
 * promoteConnectionSecret makes it current: the password in use is always the one
 * written with the item's current revision, and a write whose item update is
 * refused, or that fails half way, leaves it as it was.
 */
export async function putConnectionSecret(solutionId: string, connectionId: string, secret: ConnectionSecret): Promise<SecretPointer> {
  const name = connectionSecretName(solutionId, connectionId);
  const SecretString = JSON.stringify(secret);
  try {
    const created = await secretsClient.send(new CreateSecretCommand({ Name: name, SecretString, Description: `Sluice connection ${connectionId}` }));
    return { secretRef: name, secretVersion: created.VersionId!, created: true };
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    const put = await secretsClient.send(new PutSecretValueCommand({ SecretId: name, SecretString, VersionStages: ['AWSPENDING'] }));
    return { secretRef: name, secretVersion: put.VersionId!, created: false };
  }
}

/**
 * Moves AWSCURRENT to the version a connection item now points at, so the version in
 * use keeps a label (Secrets Manager may drop unlabelled versions) and the console shows
 * the password in use. Readers ask for the item's version, so this is bookkeeping.
 */
export async function promoteConnectionSecret(pointer: Pick<SecretPointer, 'secretRef' | 'secretVersion'>): Promise<void> {
  const described = await secretsClient.send(new DescribeSecretCommand({ SecretId: pointer.secretRef }));
  const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
  if (current === pointer.secretVersion) return;
  await secretsClient.send(
    new UpdateSecretVersionStageCommand({ SecretId: pointer.secretRef, VersionStage: 'AWSCURRENT', MoveToVersionId: pointer.secretVersion, RemoveFromVersionId: current }),
  );
}

/**
 * The secret's value: the given version, or the current one for connections written
 * before versions were recorded. A secret that is gone is no password (undefined);
 * a version that is gone from a secret that is there is an error saying what to do.
 */
export async function getConnectionSecret(secretRef: string, secretVersion?: string | null): Promise<ConnectionSecret | undefined> {
  try {
    const result = await secretsClient.send(new GetSecretValueCommand({ SecretId: secretRef, ...(secretVersion ? { VersionId: secretVersion } : {}) }));
    return result.SecretString ? (JSON.parse(result.SecretString) as ConnectionSecret) : undefined;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    if (!secretVersion) return undefined;
    const exists = await secretsClient.send(new DescribeSecretCommand({ SecretId: secretRef })).then(() => true, () => false);
    if (!exists) return undefined;
    // A SluiceError: a ping answers it as a 409, a run fails with it as a configuration error (engine/nodes/register.ts).
    throw conflict(`the connection's password (version ${secretVersion} of secret ${secretRef}) is gone from Secrets Manager: set it again with a PUT of the connection that carries its password`);
  }
}

export async function deleteConnectionSecret(secretRef: string): Promise<void> {
  try {
    await secretsClient.send(new DeleteSecretCommand({ SecretId: secretRef, ForceDeleteWithoutRecovery: true }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
}
