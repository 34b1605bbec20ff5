import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '#infra/local/ports.ts';
import { startSecretsManager } from '#infra/local/secretsmanager.ts';

/** The local runtime's Secrets Manager keeps versions, as connection passwords need (shared/secrets/client.ts). */
describe('the local Secrets Manager', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers a version by id after newer ones, and reads a state file written before it kept versions', async () => {
    const stateFile = join(dir, 'secrets.json');
    const name = 'sluice/sol_1/connections/conn_1';
    // One value per secret, as the earlier state file held them.
    writeFileSync(stateFile, JSON.stringify([{ Name: name, ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-abc`, SecretString: '{"password":"first"}', VersionId: 'v-old', CreatedDate: 1 }]));
    const port = await freePort();
    const server = await startSecretsManager({ port, stateFile });
    const client = new SecretsManagerClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    try {
      const value = async (VersionId?: string) => (await client.send(new GetSecretValueCommand({ SecretId: name, VersionId }))).SecretString;
      expect(await value()).toBe('{"password":"first"}');
      const put = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: '{"password":"second"}' }));
      expect(put.VersionId).not.toBe('v-old');
      expect(await value()).toBe('{"password":"second"}');
      expect(await value('v-old')).toBe('{"password":"first"}');
      expect(await value(put.VersionId)).toBe('{"password":"second"}');
      await expect(value('v-none')).rejects.toBeInstanceOf(ResourceNotFoundException);
      // Both versions are kept on disk.
      expect(JSON.parse(readFileSync(stateFile, 'utf8'))[0].Versions.map((v: { SecretString: string }) => v.SecretString)).toEqual(['{"password":"first"}', '{"password":"second"}']);
    } finally {
      client.destroy();
      await server.stop();
    }
  });
});
