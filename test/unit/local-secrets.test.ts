import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '#infra/local/ports.ts';
import { startSecretsManager } from '#infra/local/secretsmanager.ts';

/** The local runtime's Secrets Manager keeps versions and their labels, as connection passwords need (shared/secrets/client.ts). */
describe('the local Secrets Manager', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const name = 'sluice/sol_1/connections/conn_1';

  async function withServer(stateFile: string, work: (client: SecretsManagerClient) => Promise<void>) {
    const server = await startSecretsManager({ port: await freePort(), stateFile });
    const client = new SecretsManagerClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    try {
      await work(client);
    } finally {
      client.destroy();
      await server.stop();
    }
  }

  it('stages a version AWSPENDING without moving AWSCURRENT, moves AWSCURRENT on request, and answers any version by id', async () => {
    const stateFile = join(dir, 'staged.json');
    // One value per secret, as the first state files held them.
    writeFileSync(stateFile, JSON.stringify([{ Name: name, ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-abc`, SecretString: '{"password":"first"}', VersionId: 'v-old', CreatedDate: 1 }]));
    await withServer(stateFile, async (client) => {
      const value = async (input: { VersionId?: string; VersionStage?: string } = {}) => (await client.send(new GetSecretValueCommand({ SecretId: name, ...input }))).SecretString;
      const stages = async () => (await client.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages;
      expect(await value()).toBe('{"password":"first"}');

      const pending = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: '{"password":"second"}', VersionStages: ['AWSPENDING'] }));
      expect(await value()).toBe('{"password":"first"}');
      expect(await value({ VersionId: pending.VersionId })).toBe('{"password":"second"}');
      expect(await stages()).toEqual({ 'v-old': ['AWSCURRENT'], [pending.VersionId!]: ['AWSPENDING'] });

      // AWS asks for the version that holds AWSCURRENT before it moves.
      await expect(client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId }))).rejects.toThrow(/RemoveFromVersionId/);
      await client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId, RemoveFromVersionId: 'v-old' }));
      expect(await value()).toBe('{"password":"second"}');
      expect(await value({ VersionStage: 'AWSPREVIOUS' })).toBe('{"password":"first"}');
      expect(await stages()).toEqual({ 'v-old': ['AWSPREVIOUS'], [pending.VersionId!]: ['AWSPENDING', 'AWSCURRENT'] });

      // Without VersionStages a new version is current at once; a repeated ClientRequestToken is the same version.
      const token = 'a5b7c9d1-0000-4000-8000-000000000001';
      const third = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: '{"password":"third"}', ClientRequestToken: token }));
      const again = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: '{"password":"third"}', ClientRequestToken: token }));
      expect(again.VersionId).toBe(third.VersionId);
      expect(await value()).toBe('{"password":"third"}');
      await expect(value({ VersionId: 'v-none' })).rejects.toBeInstanceOf(ResourceNotFoundException);
    });
    // Every version and label is kept on disk.
    const saved = JSON.parse(readFileSync(stateFile, 'utf8'))[0].Versions as { SecretString: string; Stages: string[] }[];
    expect(saved.map((v) => [JSON.parse(v.SecretString).password, v.Stages])).toEqual([
      ['first', []],
      ['second', ['AWSPENDING', 'AWSPREVIOUS']],
      ['third', ['AWSCURRENT']],
    ]);
  });
});
