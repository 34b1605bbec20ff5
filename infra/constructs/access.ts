import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SECRETS_PREFIX } from '#shared/secrets/prefix.ts';

export type AccessMode = 'read' | 'write';
export type Need = 'sfn' | 'scheduler' | 'secrets';


/** Prefix of the cached download bundles (DESIGN.md: S3 layout); also the lifecycle rule's. */
export const BUNDLE_CACHE_KEYS = 'solutions/*/streams/*/bundles/*';

/** Table grants by access mode: read = Get/Query/Scan (table and indexes); write adds Put/Update/Delete. */
export function bindTable(grantee: iam.IGrantable, table: dynamodb.ITable, mode: AccessMode): void {
  if (mode === 'read') table.grantReadData(grantee);
  else table.grantReadWriteData(grantee);
}

/**
 * Bucket grants by access mode. Readers may also put download bundles: a GET of
 * packet data assembles and caches its bundle (the cache is rebuildable, so
 * this is the one write a reader may do).
 */
export function bindBucket(grantee: iam.IGrantable, bucket: s3.IBucket, mode: AccessMode): void {
  if (mode === 'read') {
    bucket.grantRead(grantee);
    bucket.grantPut(grantee, BUNDLE_CACHE_KEYS);
  } else {
    bucket.grantReadWrite(grantee);
    bucket.grantDelete(grantee);
  }
}

/** What the Step Functions and Scheduler grants point at. */
export interface Orchestration {
  /** ARNs of every state machine (computed from their names, so no reference cycles). */
  stateMachineArns: string[];
  /** Execution ARN patterns (`arn:...:execution:<name>:*`). */
  executionArns: string[];
  /** `arn:...:schedule/<group>/*`, when the scheduled-run function is deployed. */
  scheduleArns?: string;
  schedulerRoleArn?: string;
}

export function bindStateMachines(grantee: iam.IGrantable, orchestration: Orchestration): void {
  if (orchestration.stateMachineArns.length === 0) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: orchestration.stateMachineArns }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: orchestration.executionArns }),
  );
  // Task-token calls have no resource type in IAM (the token names the task), so they can only be granted on '*'.
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'], resources: ['*'] }),
  );
}

export function bindScheduler(grantee: iam.IGrantable, orchestration: Orchestration): void {
  if (!orchestration.scheduleArns || !orchestration.schedulerRoleArn) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'],
      resources: [orchestration.scheduleArns],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [orchestration.schedulerRoleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }),
  );
}

/** Connection passwords: only the functions that need them may read or write Sluice's secrets. */
export function bindSecrets(role: iam.Role): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [
        'secretsmanager:CreateSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:DeleteSecret',
        'secretsmanager:DescribeSecret',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      resources: [Stack.of(role).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${SECRETS_PREFIX}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    }),
  );
}

export interface AccessProfileProps {
  table: dynamodb.ITable;
  bucket: s3.IBucket;
  mode: AccessMode;
  needs: readonly Need[];
  orchestration: Orchestration;
}

/** `read`, `write+sfn`, ...: the key functions with the same grants share a role by. */
export const profileKey = (mode: AccessMode, needs: readonly Need[]) => [mode, ...[...new Set(needs)].sort()].join('+');

/**
 * One execution role per access profile (mode + needs) in a stack, shared by
 * every function with exactly those needs: least privilege per profile, and
 * two resources (role, policy) per profile instead of per function.
 */
export class AccessProfile extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AccessProfileProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `sluice functions with access ${profileKey(props.mode, props.needs)}`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    bindTable(this.role, props.table, props.mode);
    bindBucket(this.role, props.bucket, props.mode);
    if (props.needs.includes('sfn')) bindStateMachines(this.role, props.orchestration);
    if (props.needs.includes('scheduler')) bindScheduler(this.role, props.orchestration);
    if (props.needs.includes('secrets')) bindSecrets(this.role);
  }
}

/** Creates each profile's role once per scope, on first use. */
export class AccessProfiles {
  private readonly made = new Map<string, AccessProfile>();
  private readonly scope: Construct;
  private readonly base: Omit<AccessProfileProps, 'mode' | 'needs'>;

  constructor(scope: Construct, base: Omit<AccessProfileProps, 'mode' | 'needs'>) {
    this.scope = scope;
    this.base = base;
  }

  roleFor(mode: AccessMode, needs: readonly Need[]): iam.IRole {
    const key = profileKey(mode, needs);
    let profile = this.made.get(key);
    if (!profile) {
      const id = `Access${key.split('+').map((p) => p[0].toUpperCase() + p.slice(1)).join('')}`;
      profile = new AccessProfile(this.scope, id, { ...this.base, mode, needs });
      this.made.set(key, profile);
    }
    return profile.role;
  }
}
