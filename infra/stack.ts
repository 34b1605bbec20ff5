import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { routes as ROUTES, type Route } from '#functions/routes.ts';
import { stateMachines as STATE_MACHINES, type StateMachineSpec } from '#infra/statemachines/index.ts';
import { ownSchedules as OWN_SCHEDULES, type OwnSchedule } from '#infra/schedules.ts';
import { AREA_RULES, areaOf, type AreaRule } from './areas.ts';
import { AccessProfiles } from './constructs/access.ts';
import { SluiceApi } from './constructs/api.ts';
import { ApiArea } from './constructs/api-area.ts';
import { SluiceBucket } from './constructs/bucket.ts';
import { PROJECT_ROOT } from './constructs/bundling.ts';
import { SluiceFunction } from './constructs/function.ts';
import { SluiceTable } from './constructs/table.ts';
import { Workflows } from './constructs/workflows.ts';

const SCHEDULED_RUN = 'events/scheduled-run';

export interface SluiceStackProps extends StackProps {
  /** The route table; functions/routes.ts unless a test passes another. */
  routes?: Route[];
  stateMachines?: StateMachineSpec[];
  statemachinesDir?: string;
  /** The scheduled-run handler module; by default events/scheduled-run when that file exists. null: none. */
  scheduledRunHandler?: string | null;
  scheduleGroupName?: string;
  /** The schedules the stack owns (infra/schedules.ts unless a test passes others). */
  ownSchedules?: OwnSchedule[];
  areaRules?: AreaRule[];
  /** false: inline stubs instead of esbuild bundles (fast CDK assertion tests). */
  bundle?: boolean;
}

/**
 * Sluice in one stack: the table, the bucket, the HTTP API with its authorizer,
 * the workflows in this stack; the API's functions and routes in one nested
 * stack per area (infra/areas.ts) to stay far from the 500-resource limit.
 * Environment-agnostic and free of lookups, so `cdk synth` runs offline.
 */
export class SluiceStack extends Stack {
  readonly areas = new Map<string, ApiArea>();

  constructor(scope: Construct, id: string, props: SluiceStackProps = {}) {
    super(scope, id, props);
    const routes = props.routes ?? ROUTES;
    const bundle = props.bundle;
    const version = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

    const table = new SluiceTable(this, 'Data').table;
    const bucket = new SluiceBucket(this, 'Blobs').bucket;
    const environment: Record<string, string> = {
      TABLE_NAME: table.tableName,
      BUCKET_NAME: bucket.bucketName,
      SLUICE_VERSION: version,
      POWERTOOLS_SERVICE_NAME: 'sluice',
    };

    const scheduledRunHandler =
      props.scheduledRunHandler === null
        ? undefined
        : (props.scheduledRunHandler ?? (existsSync(resolve(PROJECT_ROOT, 'functions', `${SCHEDULED_RUN}.ts`)) ? SCHEDULED_RUN : undefined));
    const workflows = new Workflows(this, 'Workflows', {
      stateMachines: props.stateMachines ?? STATE_MACHINES,
      statemachinesDir: props.statemachinesDir ?? resolve(PROJECT_ROOT, 'infra/statemachines'),
      scheduledRunHandler,
      scheduleGroupName: props.scheduleGroupName ?? 'sluice',
      ownSchedules: props.ownSchedules ?? OWN_SCHEDULES,
      table,
      bucket,
      environment,
      bundle,
    });

    const authorizer = new SluiceFunction(this, 'Authorizer', {
      handler: 'events/authorizer',
      role: new AccessProfiles(this, { table, bucket, orchestration: { stateMachineArns: [], executionArns: [] } }).roleFor('read', []),
      environment,
      bundle,
      timeout: undefined,
    });
    const api = new SluiceApi(this, 'Api', { authorizer: authorizer.function });

    const byArea = new Map<string, Route[]>();
    for (const route of routes) {
      const area = areaOf(route, props.areaRules ?? AREA_RULES);
      byArea.set(area, [...(byArea.get(area) ?? []), route]);
    }
    for (const [area, areaRoutes] of byArea) {
      this.areas.set(
        area,
        new ApiArea(this, `${area}Api`, {
          routes: areaRoutes,
          httpApi: api.api,
          authorizerId: api.authorizerId,
          table,
          bucket,
          orchestration: workflows.orchestration,
          environment: { ...environment, ...workflows.environment },
          bundle,
          description: `sluice API area ${area}: ${areaRoutes.length} routes`,
        }),
      );
    }

    new CfnOutput(this, 'ApiUrl', { value: api.url });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
  }
}
