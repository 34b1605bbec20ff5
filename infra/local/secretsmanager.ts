import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { closeServer, listen, readJson, ServiceError, writeJson } from './json-server.ts';

/**
 * A minimal AWS Secrets Manager endpoint (AWS JSON 1.1, `X-Amz-Target:
 * secretsmanager.<Operation>`) for the operations Sluice uses: CreateSecret,
 * GetSecretValue, PutSecretValue, DeleteSecret, DescribeSecret. Secrets are
 * kept in memory and, unless `stateFile` is omitted, in a 0600 JSON file under
 * the runtime's data directory (a developer machine's throwaway store; in AWS
 * the real service encrypts them with KMS).
 */
interface StoredSecret {
  Name: string;
  ARN: string;
  SecretString?: string;
  VersionId: string;
  CreatedDate: number;
}

export interface RunningSecretsManager {
  endpoint: string;
  stop(): Promise<void>;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';

export async function startSecretsManager(options: { port: number; stateFile?: string }): Promise<RunningSecretsManager> {
  const secrets = new Map<string, StoredSecret>(
    options.stateFile && existsSync(options.stateFile)
      ? (JSON.parse(readFileSync(options.stateFile, 'utf8')) as StoredSecret[]).map((s) => [s.Name, s])
      : [],
  );
  const persist = () => {
    if (!options.stateFile) return;
    mkdirSync(dirname(options.stateFile), { recursive: true });
    writeFileSync(options.stateFile, JSON.stringify([...secrets.values()]), { mode: 0o600 });
    chmodSync(options.stateFile, 0o600);
  };
  let version = 0;
  const nextVersion = () => `v-${Date.now().toString(36)}-${(++version).toString(36)}`;
  const find = (id: unknown): StoredSecret => {
    const key = String(id ?? '');
    const secret = secrets.get(key) ?? [...secrets.values()].find((s) => s.ARN === key);
    if (!secret) throw new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  };

  const server = await listen(options.port, async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^secretsmanager\./, '');
    const body = await readJson(req);
    const reply = (payload: unknown) => writeJson(res, 200, payload, CONTENT_TYPE);
    switch (operation) {
      case 'CreateSecret': {
        const name = String(body.Name ?? '');
        if (!name) throw new ServiceError('InvalidParameterException', 'Name is required');
        if (secrets.has(name)) throw new ServiceError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
        const secret: StoredSecret = {
          Name: name,
          ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-${Math.random().toString(36).slice(2, 8)}`,
          SecretString: body.SecretString,
          VersionId: nextVersion(),
          CreatedDate: Date.now() / 1000,
        };
        secrets.set(name, secret);
        persist();
        return reply({ ARN: secret.ARN, Name: secret.Name, VersionId: secret.VersionId });
      }
      case 'PutSecretValue': {
        const secret = find(body.SecretId);
        secret.SecretString = body.SecretString;
        secret.VersionId = nextVersion();
        persist();
        return reply({ ARN: secret.ARN, Name: secret.Name, VersionId: secret.VersionId, VersionStages: ['AWSCURRENT'] });
      }
      case 'GetSecretValue': {
        const secret = find(body.SecretId);
        return reply({
          ARN: secret.ARN, Name: secret.Name, VersionId: secret.VersionId, SecretString: secret.SecretString,
          VersionStages: ['AWSCURRENT'], CreatedDate: secret.CreatedDate,
        });
      }
      case 'DescribeSecret': {
        const secret = find(body.SecretId);
        return reply({ ARN: secret.ARN, Name: secret.Name, CreatedDate: secret.CreatedDate });
      }
      case 'DeleteSecret': {
        const secret = find(body.SecretId);
        secrets.delete(secret.Name);
        persist();
        return reply({ ARN: secret.ARN, Name: secret.Name, DeletionDate: Date.now() / 1000 });
      }
      default:
        throw new ServiceError('UnknownOperationException', `unsupported operation ${target}`);
    }
  });
  return { endpoint: `http://127.0.0.1:${options.port}`, stop: () => closeServer(server) };
}
