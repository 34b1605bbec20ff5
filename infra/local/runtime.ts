import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { routes } from '#functions/routes.ts';
import { ownSchedules } from '#infra/schedules.ts';
import { stateMachines } from '#infra/statemachines/index.ts';
import { startDynamo } from './dynamodb.ts';
import { startGateway } from './gateway.ts';
import { freePort } from './ports.ts';
import { LOCAL_S3_CREDENTIALS, startS3 } from './s3.ts';
import { startScheduler } from './scheduler.ts';
import { startSecretsManager } from './secretsmanager.ts';
import { localFunctionArn, stateMachineArn, startStepFunctions } from './stepfunctions.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const SCHEDULED_RUN = 'events/scheduled-run';

export interface LocalRuntimeOptions {
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  apiKey?: string;
  /** Keep DynamoDB in memory (tests). */
  inMemory?: boolean;
}

export interface LocalRuntime {
  url: string;
  newAdminKey?: string;
  solutionId: string;
  /** The environment handlers run with: endpoints, table, bucket. */
  env: Record<string, string>;
  invoke(handlerModule: string, event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * The embedded local runtime: DynamoDB Local, an S3 server, Step Functions and
 * Scheduler endpoints and the API gateway, in one process. Handlers run
 * in-process with exactly the environment variables CDK gives them in AWS,
 * except that AWS_ENDPOINT_URL_* point at the local services.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const dataDir = resolve(options.dataDir);
  const [dynamoPort, s3Port, sfnPort, schedulerPort, secretsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };
  try {
    const dynamo = await startDynamo({ port: dynamoPort, dataDir: options.inMemory ? undefined : resolve(dataDir, 'dynamodb') });
    stops.push(dynamo.stop);
    const bucket = 'sluice-local';
    const s3 = await startS3({ port: s3Port, dataDir: resolve(dataDir, 's3'), buckets: [bucket] });
    stops.push(s3.stop);

    const env: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SFN: `http://127.0.0.1:${sfnPort}`,
      AWS_ENDPOINT_URL_SCHEDULER: `http://127.0.0.1:${schedulerPort}`,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${secretsPort}`,
      SLUICE_S3_FORCE_PATH_STYLE: 'true',
      TABLE_NAME: 'sluice',
      BUCKET_NAME: bucket,
      SCHEDULER_GROUP: 'default',
      SCHEDULER_ROLE_ARN: 'arn:aws:iam::000000000000:role/sluice-scheduler',
      SCHEDULER_TARGET_ARN: localFunctionArn(SCHEDULED_RUN),
      // Continuous runs poll for new input at most this far apart (AWS default 10); short locally so stops and new packets show quickly.
      RUN_MAX_IDLE_SECONDS: process.env.RUN_MAX_IDLE_SECONDS ?? '2',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      ...Object.fromEntries(stateMachines.map((m) => [`${m.name.toUpperCase()}_STATE_MACHINE_ARN`, stateMachineArn(m.name)])),
    };
    // Handlers read their configuration from the environment, as in Lambda.
    Object.assign(process.env, env);
    delete process.env.AWS_PROFILE;

    const gateway = await startGateway({ port: options.port, routes, functionsDir: resolve(ROOT, 'functions') });
    stops.push(gateway.stop);
    const sfn = await startStepFunctions({
      port: sfnPort,
      machines: stateMachines,
      statemachinesDir: resolve(ROOT, 'infra/statemachines'),
      invoke: gateway.invoke,
    });
    stops.push(sfn.stop);
    // A fire goes to the function its target names: scheduled-run for the schedules the API creates, a handler for the stack's own.
    const targets = new Map([SCHEDULED_RUN, ...ownSchedules.map((own) => own.handler)].map((module) => [localFunctionArn(module), module]));
    const scheduler = await startScheduler({
      port: schedulerPort,
      stateFile: resolve(dataDir, 'scheduler.json'),
      fire: (target, event) => {
        const module = targets.get(target.Arn);
        if (!module) throw new Error(`no local function ${target.Arn}`);
        return gateway.invoke(module, event);
      },
      own: ownSchedules.map((own) => ({ Name: own.name, GroupName: env.SCHEDULER_GROUP, ScheduleExpression: own.expression, Target: { Arn: localFunctionArn(own.handler) } })),
    });
    stops.push(scheduler.stop);
    // Connection passwords (shared/secrets); kept in memory only when DynamoDB is.
    const secrets = await startSecretsManager({ port: secretsPort, stateFile: options.inMemory ? undefined : resolve(dataDir, 'secrets.json') });
    stops.push(secrets.stop);

    // Loaded only now: SDK clients must see the endpoints set above.
    const { ensureBucket, ensureDefaults, ensureTable } = await import('./bootstrap.ts');
    await ensureTable(env.TABLE_NAME);
    await ensureBucket(bucket);
    const defaults = await ensureDefaults(options.apiKey);
    // Where everything listens, for tools and tests that talk to the emulators directly.
    writeFileSync(resolve(dataDir, 'runtime.json'), JSON.stringify({ url: gateway.url, solutionId: defaults.solutionId, env }, null, 2));
    return { url: gateway.url, newAdminKey: defaults.newAdminKey, solutionId: defaults.solutionId, env, invoke: gateway.invoke, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
