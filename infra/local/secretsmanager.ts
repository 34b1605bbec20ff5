import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { closeServer, listen, readJson, ServiceError, writeJson } from './json-server.ts';

/**
 * A minimal AWS Secrets Manager endpoint (AWS JSON 1.1, `X-Amz-Target:
 * secretsmanager.<Operation>`) for the operations Sluice uses: CreateSecret,
 * GetSecretValue (the current version, or one by VersionId), PutSecretValue
 * (a new current version), DeleteSecret, DescribeSecret. As in AWS, a secret
 * keeps its last 100 versions. Secrets are kept in memory and, unless
 * `stateFile` is omitted, in a 0600 JSON file under the runtime's data
 * directory (a developer machine's throwaway store; in AWS the real service
 * encrypts them with KMS).
 */
interface SecretVersion {
  VersionId: string;
  SecretString?: string;
  CreatedDate: number;
}

interface StoredSecret {
  Name: string;
  ARN: string;
  CreatedDate: number;
  /** Oldest first; the last one is AWSCURRENT. */
  Versions: SecretVersion[];
}

/** A state file written before versions were kept: one value per secret. */
type StateEntry = StoredSecret | (Omit<StoredSecret, 'Versions'> & { VersionId: string; SecretString?: string });

const MAX_VERSIONS = 100;

export interface RunningSecretsManager {
  endpoint: string;
  stop(): Promise<void>;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';

export async function startSecretsManager(options: { port: number; stateFile?: string }): Promise<RunningSecretsManager> {
  const stored = (entry: StateEntry): StoredSecret =>
    'Versions' in entry ? entry : { Name: entry.Name, ARN: entry.ARN, CreatedDate: entry.CreatedDate, Versions: [{ VersionId: entry.VersionId, SecretString: entry.SecretString, CreatedDate: entry.CreatedDate }] };
  const secrets = new Map<string, StoredSecret>(
    options.stateFile && existsSync(options.stateFile)
      ? (JSON.parse(readFileSync(options.stateFile, 'utf8')) as StateEntry[]).map((entry) => [entry.Name, stored(entry)])
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

  const current = (secret: StoredSecret) => secret.Versions[secret.Versions.length - 1];
  const addVersion = (secret: StoredSecret, SecretString: string | undefined): SecretVersion => {
    const added = { VersionId: nextVersion(), SecretString, CreatedDate: Date.now() / 1000 };
    secret.Versions = [...secret.Versions, added].slice(-MAX_VERSIONS);
    return added;
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
          CreatedDate: Date.now() / 1000,
          Versions: [],
        };
        const version = addVersion(secret, body.SecretString);
        secrets.set(name, secret);
        persist();
        return reply({ ARN: secret.ARN, Name: secret.Name, VersionId: version.VersionId });
      }
      case 'PutSecretValue': {
        const secret = find(body.SecretId);
        const version = addVersion(secret, body.SecretString);
        persist();
        return reply({ ARN: secret.ARN, Name: secret.Name, VersionId: version.VersionId, VersionStages: ['AWSCURRENT'] });
      }
      case 'GetSecretValue': {
        const secret = find(body.SecretId);
        const version = body.VersionId === undefined ? current(secret) : secret.Versions.find((v) => v.VersionId === body.VersionId);
        if (!version) throw new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for VersionId: " + String(body.VersionId));
        return reply({
          ARN: secret.ARN, Name: secret.Name, VersionId: version.VersionId, SecretString: version.SecretString,
          VersionStages: version === current(secret) ? ['AWSCURRENT'] : [], CreatedDate: version.CreatedDate,
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
