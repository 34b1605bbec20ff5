import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ESBUILD, PROJECT_ROOT, assetHashOf, entryOf } from './bundling.ts';
import { resolve } from 'node:path';

export interface SluiceFunctionProps {
  /** Module under functions/ without extension (`v1/streams-get`), exporting `handler`. */
  handler: string;
  /** Shared per access profile (see AccessProfile), so grants are not repeated per function. */
  role: iam.IRole;
  environment: Record<string, string>;
  /**
   * false: an inline stub instead of an esbuild bundle. CDK assertion tests use
   * it so that synthesis takes milliseconds; the resource shape is the same.
   */
  bundle?: boolean;
  timeout?: Duration;
  memorySize?: number;
}

/** How long function logs are kept. */
export const LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/** `v1/streams-get` -> `V1StreamsGet`: a stable construct id per handler module. */
export const idOf = (handlerModule: string) =>
  handlerModule
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');

/**
 * Every Lambda of Sluice: nodejs24.x on arm64, bundled by esbuild with the
 * options of bundling.ts (minified, tree-shaken, source maps, the AWS SDK
 * bundled), its own log group with a retention, JSON logs.
 */
export class SluiceFunction extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SluiceFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: LOG_RETENTION, removalPolicy: RemovalPolicy.DESTROY });
    const common = {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(29),
      role: props.role,
      environment: props.environment,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: `sluice functions/${props.handler}.ts`,
    };
    if (props.bundle === false) {
      this.function = new lambda.Function(this, 'Function', {
        ...common,
        handler: 'index.handler',
        code: lambda.Code.fromInline(`exports.handler = async () => ({ statusCode: 501, body: 'stub of ${props.handler}' });`),
      });
    } else {
      this.function = new NodejsFunction(this, 'Function', {
        ...common,
        entry: entryOf(props.handler),
        handler: 'handler',
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: resolve(PROJECT_ROOT, 'package-lock.json'),
        awsSdkConnectionReuse: false,
        bundling: {
          // Unchanged sources: the bundle already in cdk.out is reused.
          assetHash: assetHashOf(props.handler),
          target: ESBUILD.target,
          format: OutputFormat.ESM,
          minify: ESBUILD.minify,
          sourceMap: ESBUILD.sourcemap,
          sourceMapMode: SourceMapMode.DEFAULT,
          sourcesContent: ESBUILD.sourcesContent,
          mainFields: [...ESBUILD.mainFields],
          externalModules: [...ESBUILD.external],
          banner: ESBUILD.banner,
          logLevel: LogLevel.ERROR,
          esbuildArgs: { '--tree-shaking': String(ESBUILD.treeShaking) },
        },
      });
    }
  }
}
