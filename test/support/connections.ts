import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { inject } from 'vitest';
import { connectionSecretName } from '#shared/secrets/client.ts';
import { unique } from './api.ts';

/** A connection body for a test server as DBConvert clients send it (the type in the vendor's casing). */
export function dbconvertConnectionBody(which: 'postgresql' | 'mysql', overrides: Record<string, unknown> = {}) {
  const d = inject('databases')[which];
  return { name: unique(which), type: which === 'mysql' ? 'MYSQL' : 'PostgreSQL', host: d.host, port: d.port, username: d.username, password: d.password, database: d.database, ...overrides };
}

/** A second reader of the local runtime's Secrets Manager: the stored password of a connection, or undefined when it has no secret. */
export async function storedPassword(solutionId: string, connectionId: string): Promise<string | undefined> {
  const env = inject('runtimeEnv');
  const client = new SecretsManagerClient({
    endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  try {
    const result = await client.send(new GetSecretValueCommand({ SecretId: connectionSecretName(solutionId, connectionId) }));
    return JSON.parse(result.SecretString ?? '{}').password;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  } finally {
    client.destroy();
  }
}
