import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { connectionSecretName } from '#shared/secrets/client.ts';
import { unique } from './api.ts';
import { tableReader } from './dynamo.ts';

/** A connection body for a test server as DBConvert clients send it (the type in the vendor's casing). */
export function dbconvertConnectionBody(which: 'postgresql' | 'mysql', overrides: Record<string, unknown> = {}) {
  const d = inject('databases')[which];
  return { name: unique(which), type: which === 'mysql' ? 'MYSQL' : 'PostgreSQL', host: d.host, port: d.port, username: d.username, password: d.password, database: d.database, ...overrides };
}

/** A second reader: the connection's item as stored, with its claims (`usedBy`, `claims`). */
export async function connectionItem(id: string): Promise<Record<string, any> | undefined> {
  const { client, tableName } = tableReader();
  return (await client.send(new GetCommand({ TableName: tableName, Key: { PK: `CONN#${id}`, SK: 'CONNECTION' }, ConsistentRead: true }))).Item;
}

/** The streams that claimed a connection (sorted) and its claim counter. */
export async function claimsOf(id: string): Promise<{ usedBy: string[]; claims: number | undefined }> {
  const item = await connectionItem(id);
  return { usedBy: [...(item?.usedBy ?? [])].sort(), claims: item?.claims };
}

/**
 * A second reader of the local runtime's Secrets Manager: the password a connection uses (the
 * version of its secret its item points at) or its secret's AWSCURRENT version, or undefined
 * when it has no secret.
 */
export async function storedPassword(solutionId: string, connectionId: string, which: 'in use' | 'AWSCURRENT' = 'in use'): Promise<string | undefined> {
  const env = inject('runtimeEnv');
  const client = new SecretsManagerClient({
    endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  try {
    const version = which === 'in use' ? ((await connectionItem(connectionId))?.secretVersion as string | undefined) : undefined;
    const result = await client.send(new GetSecretValueCommand({ SecretId: connectionSecretName(solutionId, connectionId), VersionId: version ?? undefined }));
    return JSON.parse(result.SecretString ?? '{}').password;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  } finally {
    client.destroy();
  }
}
