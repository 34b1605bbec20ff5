import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { closeServer, listen, readJson, ServiceError, writeJson } from './json-server.ts';

/**
 * A minimal AWS Secrets Manager endpoint (AWS JSON 1.1, `X-Amz-Target:
 * secretsmanager.<Operation>`) for the operations Sluice uses: CreateSecret,
 * PutSecretValue (a new version, staged AWSCURRENT unless other VersionStages
 * are given), GetSecretValue (by VersionId, by VersionStage, else AWSCURRENT),
 * UpdateSecretVersionStage (moving a label; AWSCURRENT's old version becomes
 * AWSPREVIOUS), DescribeSecret (with VersionIdsToStages) and DeleteSecret. As in
 * AWS, a repeated ClientRequestToken is the same version, and versions without a
 * label are dropped beyond 100. Secrets are kept in memory and, unless
 * `stateFile` is omitted, in a 0600 JSON file under the runtime's data directory
 * (a developer machine's throwaway store; in AWS the real service encrypts them
 * with KMS).
 */
interface SecretVersion {
  VersionId: string;
  SecretString?: string;
  CreatedDate: number;
  Stages: string[];
}

interface StoredSecret {
  Name: string;
  ARN: string;
  CreatedDate: number;
  Versions: SecretVersion[];
}

/** A state file of an earlier runtime held one value per secret. */
type StateEntry = StoredSecret | (Omit<StoredSecret, 'Versions'> & { VersionId: string; SecretString?: string });

const MAX_VERSIONS = 100;

export interface RunningSecretsManager {
  endpoint: string;
  stop(): Promise<void>;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';

function fromState(entry: StateEntry): StoredSecret {
  if ('Versions' in entry) return entry;
  const { Name, ARN, CreatedDate, VersionId, SecretString } = entry;
  return { Name, ARN, CreatedDate, Versions: [{ VersionId, SecretString, CreatedDate, Stages: ['AWSCURRENT'] }] };
}

export async function startSecretsManager(options: { port: number; stateFile?: string }): Promise<RunningSecretsManager> {
  const secrets = new Map<string, StoredSecret>(
    options.stateFile && existsSync(options.stateFile)
      ? (JSON.parse(readFileSync(options.stateFile, 'utf8')) as StateEntry[]).map((entry) => [entry.Name, fromState(entry)])
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
  const labelled = (secret: StoredSecret, stage: string) => secret.Versions.find((v) => v.Stages.includes(stage));
  /** Puts `stage` on `to` only; moving AWSCURRENT leaves AWSPREVIOUS on the version that had it. */
  const attach = (secret: StoredSecret, stage: string, to: SecretVersion) => {
    const from = labelled(secret, stage);
    if (from === to) return;
    if (from) from.Stages = from.Stages.filter((s) => s !== stage);
    to.Stages = [...to.Stages, stage];
    if (stage === 'AWSCURRENT' && from) attach(secret, 'AWSPREVIOUS', from);
  };
  const addVersion = (secret: StoredSecret, body: Record<string, any>): SecretVersion => {
    const repeated = body.ClientRequestToken && secret.Versions.find((v) => v.VersionId === body.ClientRequestToken);
    if (repeated) return repeated;
    const added: SecretVersion = { VersionId: body.ClientRequestToken ?? nextVersion(), SecretString: body.SecretString, CreatedDate: Date.now() / 1000, Stages: [] };
    secret.Versions.push(added);
    for (const stage of (body.VersionStages as string[] | undefined) ?? ['AWSCURRENT']) attach(secret, stage, added);
    while (secret.Versions.length > MAX_VERSIONS) {
      const oldest = secret.Versions.findIndex((v) => v.Stages.length === 0);
      if (oldest < 0) break;
      secret.Versions.splice(oldest, 1);
    }
    return added;
  };
  const versionOf = (secret: StoredSecret, byId: SecretVersion | undefined) => ({ ARN: secret.ARN, Name: secret.Name, VersionId: byId!.VersionId, VersionStages: byId!.Stages });

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
        const added = addVersion(secret, { ClientRequestToken: body.ClientRequestToken, SecretString: body.SecretString });
        secrets.set(name, secret);
        persist();
        return reply({ ARN: secret.ARN, Name: secret.Name, VersionId: added.VersionId });
      }
      case 'PutSecretValue': {
        const secret = find(body.SecretId);
        const added = addVersion(secret, body);
        persist();
        return reply(versionOf(secret, added));
      }
      case 'GetSecretValue': {
        const secret = find(body.SecretId);
        const wanted =
          body.VersionId !== undefined
            ? secret.Versions.find((v) => v.VersionId === body.VersionId)
            : labelled(secret, String(body.VersionStage ?? 'AWSCURRENT'));
        if (!wanted) throw new ServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${body.VersionId !== undefined ? `VersionId: ${body.VersionId}` : `staging label: ${body.VersionStage ?? 'AWSCURRENT'}`}`);
        return reply({ ...versionOf(secret, wanted), SecretString: wanted.SecretString, CreatedDate: wanted.CreatedDate });
      }
      case 'UpdateSecretVersionStage': {
        const secret = find(body.SecretId);
        const stage = String(body.VersionStage ?? '');
        const holder = labelled(secret, stage);
        if (holder && holder.VersionId !== body.RemoveFromVersionId && holder.VersionId !== body.MoveToVersionId) {
          throw new ServiceError('InvalidParameterException', `The staging label ${stage} is currently attached to version ${holder.VersionId}, so you must explicitly reference that version in RemoveFromVersionId.`);
        }
        if (body.MoveToVersionId !== undefined) {
          const to = secret.Versions.find((v) => v.VersionId === body.MoveToVersionId);
          if (!to) throw new ServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${body.MoveToVersionId}`);
          attach(secret, stage, to);
        } else if (holder) {
          holder.Stages = holder.Stages.filter((s) => s !== stage);
        }
        persist();
        return reply({ ARN: secret.ARN, Name: secret.Name });
      }
      case 'DescribeSecret': {
        const secret = find(body.SecretId);
        return reply({ ARN: secret.ARN, Name: secret.Name, CreatedDate: secret.CreatedDate, VersionIdsToStages: Object.fromEntries(secret.Versions.filter((v) => v.Stages.length > 0).map((v) => [v.VersionId, v.Stages])) });
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
