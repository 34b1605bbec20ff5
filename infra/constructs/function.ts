import { AssetHashType, DockerImage, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PROJECT_ROOT, assetHashOf, bundleHandler } from './bundling.ts';

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
 * options of bundling.ts (a directory of split ESM chunks: minified,
 * tree-shaken, source maps, the AWS SDK bundled), its own log group with a
 * retention, JSON logs. Not NodejsFunction: it bundles to a single file, and
 * code splitting needs a directory (docs/performance.md).
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
      this.function = new lambda.Function(this, 'Function', {
        ...common,
        handler: 'index.handler', // ENTRY_FILE's export
        code: lambda.Code.fromAsset(PROJECT_ROOT, {
          // Unchanged sources: the bundle already in cdk.out is reused.
          assetHashType: AssetHashType.CUSTOM,
          assetHash: assetHashOf(props.handler),
          bundling: {
            // esbuild runs here, in-process; the image is never pulled (no Docker needed).
            local: { tryBundle: (outputDir) => (bundleHandler(props.handler, outputDir), true) },
            image: DockerImage.fromRegistry('sluice/bundled-locally'),
          },
        }),
      });
    }
  }
}
