import { ownSchedules } from '#infra/schedules.ts';
import { stateMachines } from '#infra/statemachines/index.ts';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { routeKey, routes, type Route } from '#functions/routes.ts';
import { checkResourceBudget, resourceCounts } from '#infra/budget.ts';
import { resourcesOf, synth } from './synth.ts';

const handlers = [...new Set(routes.map((r) => r.handler))];
const { root, areas, all, assembly } = synth();
const apiTemplates = [...areas.values()];

describe('the API', () => {
  it('deploys one function per handler module of routes.ts, plus the authorizer', () => {
    const described = resourcesOf(apiTemplates, 'AWS::Lambda::Function').map((f) => f.Properties.Description);
    expect(described.sort()).toEqual(handlers.map((h) => `sluice functions/${h}.ts`).sort());
    root.hasResourceProperties('AWS::Lambda::Function', { Description: 'sluice functions/events/authorizer.ts' });
  });

  it('serves every route key of routes.ts as an AWS::ApiGatewayV2::Route, once', () => {
    const keys = resourcesOf(all, 'AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey);
    expect(keys.sort()).toEqual(routes.map(routeKey).sort());
  });

  it('puts the authorizer on keyed routes and none on public ones', () => {
    const authorizerRef = Object.keys(root.findResources('AWS::ApiGatewayV2::Authorizer'))[0];
    const byKey = new Map(resourcesOf(apiTemplates, 'AWS::ApiGatewayV2::Route').map((r) => [r.Properties.RouteKey, r.Properties]));
    for (const route of routes) {
      const props = byKey.get(routeKey(route))!;
      if (route.auth === false) {
        expect(props.AuthorizationType, routeKey(route)).toBe('NONE');
        expect(props.AuthorizerId, routeKey(route)).toBeUndefined();
      } else {
        expect(props.AuthorizationType, routeKey(route)).toBe('CUSTOM');
        // The nested stack receives the parent's authorizer id as a parameter.
        expect(JSON.stringify(props.AuthorizerId), routeKey(route)).toMatch(/Ref/);
      }
    }
    expect(routes.some((r) => r.auth === false)).toBe(true);
    expect(JSON.stringify(root.findResources('AWS::CloudFormation::Stack'))).toContain(authorizerRef);
  });

  it('runs the authorizer on every request: REQUEST type, simple responses, no caching, no identity source', () => {
    root.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    root.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      AuthorizerResultTtlInSeconds: 0,
      IdentitySource: Match.absent(),
    });
  });

  it('integrates each function once with payload format 2.0', () => {
    const integrations = resourcesOf(apiTemplates, 'AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(handlers.length);
    for (const integration of integrations) {
      expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    }
  });

  it('answers CORS preflights with the headers the handlers expose', () => {
    root.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['*'],
        AllowHeaders: Match.arrayWith(['authorization', 'x-api-key', 'if-match', 'idempotency-key']),
        ExposeHeaders: ['etag', 'location', 'x-request-id'],
      }),
    });
  });
});

describe('functions', () => {
  it('run nodejs24.x on arm64 with the common environment, JSON logs and a log group with retention', () => {
    const functions = resourcesOf(all, 'AWS::Lambda::Function');
    // Route handlers, the authorizer, the state machines' task functions and the stack's own scheduled functions.
    const taskHandlers = new Set(stateMachines.flatMap((m) => Object.values(m.tasks)));
    expect(functions.length).toBe(handlers.length + 1 + taskHandlers.size + ownSchedules.length);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
        expect.arrayContaining(['TABLE_NAME', 'BUCKET_NAME', 'SLUICE_VERSION', 'POWERTOOLS_SERVICE_NAME']),
      );
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON' });
    }
    const groups = resourcesOf(all, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(functions.length);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('give GET-only handlers a read-only role and writers a read/write one', () => {
    const policies = resourcesOf(apiTemplates, 'AWS::IAM::Policy').map((p) => JSON.stringify(p.Properties.PolicyDocument));
    const readOnly = policies.filter((p) => p.includes('dynamodb:GetItem') && !p.includes('dynamodb:PutItem'));
    const readWrite = policies.filter((p) => p.includes('dynamodb:PutItem'));
    expect(readOnly.length).toBeGreaterThan(0);
    expect(readWrite.length).toBeGreaterThan(0);
    // Readers may write only cached bundles.
    for (const p of readOnly) {
      expect(p).not.toContain('s3:DeleteObject');
      expect(p).toContain('solutions/*/streams/*/bundles/*');
    }
    // The authorizer only reads.
    // (The root stack also holds the workflow task functions, which write.)
    const authorizer = Object.values(root.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Description === 'sluice functions/events/authorizer.ts') as any;
    const authorizerRole = authorizer.Properties.Role['Fn::GetAtt'][0];
    const authorizerPolicies = resourcesOf([root], 'AWS::IAM::Policy').filter((p) => JSON.stringify(p.Properties.Roles).includes(authorizerRole));
    expect(authorizerPolicies.length).toBeGreaterThan(0);
    expect(authorizerPolicies.every((p) => !JSON.stringify(p.Properties.PolicyDocument).includes('dynamodb:PutItem'))).toBe(true);
  });
});

describe('data', () => {
  it('the table: PK/SK strings, GSI1 and GSI2 projecting all, TTL on expiresAt, PITR, SSE, on-demand, retained', () => {
    root.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'PK', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([{ AttributeName: 'PK', AttributeType: 'S' }, { AttributeName: 'SK', AttributeType: 'S' }]),
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: ['GSI1', 'GSI2'].map((name) => ({
          IndexName: name,
          KeySchema: [
            { AttributeName: `${name}PK`, KeyType: 'HASH' },
            { AttributeName: `${name}SK`, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      }),
    });
  });

  it('the bucket: public access blocked, S3-managed encryption, TLS only, bundles expire, uploads aborted', () => {
    root.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({ Id: 'expire-cached-bundles', Status: 'Enabled', TagFilters: [{ Key: 'sluice-cache', Value: 'bundle' }], ExpirationInDays: 7 }),
            Match.objectLike({ Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
          ],
        },
      }),
    });
    root.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('workflows', () => {
  const withWorkflows = synth({
    routes: [
      ...routes,
      { method: 'POST', path: '/v1/streams/{id}/start', handler: 'v1/runs-start', face: 'native', scopes: ['runs:write'], needs: ['sfn', 'scheduler'] },
    ],
    stateMachines: [{ name: 'run', file: 'sample.asl.json', tasks: { ProcessFunctionArn: 'workflows/process-bundle' } }],
    statemachinesDir: new URL('./fixtures/', import.meta.url).pathname,
    scheduledRunHandler: 'events/scheduled-run',
  });

  it('a Standard state machine per spec, its tasks substituted with their functions', () => {
    withWorkflows.root.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      StateMachineName: 'Sluice-run',
      DefinitionSubstitutions: { ProcessFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('WorkflowsProcessBundle'), 'Arn'] } },
    });
    withWorkflows.root.hasResourceProperties('AWS::Lambda::Function', { Description: 'sluice functions/workflows/process-bundle.ts' });
  });

  it('grants task-token calls on * (IAM has no resource for them), continue-as-new on the machine itself, and secrets to the engine', () => {
    const rootPolicies = resourcesOf([withWorkflows.root], 'AWS::IAM::Policy').map((p) => p.Properties.PolicyDocument.Statement as any[]);
    const statements = rootPolicies.flat();
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'], Resource: '*' }),
    );
    expect(statements.some((s) => s.Action === 'states:StartExecution' && JSON.stringify(s.Resource).includes('stateMachine:'))).toBe(true);
    expect(statements.some((s) => Array.isArray(s.Action) && s.Action.includes('secretsmanager:GetSecretValue'))).toBe(true);
  });

  it('API functions get the state machine ARN, the scheduler settings and, when they need them, the grants', () => {
    const fns = resourcesOf([...withWorkflows.areas.values()], 'AWS::Lambda::Function');
    for (const fn of fns) {
      expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
        expect.arrayContaining(['RUN_STATE_MACHINE_ARN', 'SCHEDULER_TARGET_ARN', 'SCHEDULER_ROLE_ARN', 'SCHEDULER_GROUP']),
      );
    }
    const policies = resourcesOf([...withWorkflows.areas.values()], 'AWS::IAM::Policy').map((p) => JSON.stringify(p.Properties.PolicyDocument));
    // Profiles with both sfn and scheduler (the synthetic start route; stream deletes, which disarm and start the purge).
    const starters = policies.filter((p) => p.includes('states:StartExecution') && p.includes('scheduler:CreateSchedule'));
    expect(starters.length).toBeGreaterThan(0);
    for (const starter of starters) expect(starter).toContain('iam:PassRole');
    withWorkflows.root.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'sluice' });
    withWorkflows.root.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] },
    });
  });
});

describe('the CloudFormation resource budget', () => {
  it('keeps every stack of the real route table under 500 resources', () => {
    for (const [file, count] of Object.entries(resourceCounts(assembly))) expect(count, file).toBeLessThan(500);
    expect(() => checkResourceBudget(assembly)).not.toThrow();
  });

  it('fits 120 routes: each area its own nested stack, each under budget', () => {
    const synthetic: Route[] = [];
    const row = (method: Route['method'], path: string, handler: string, face: Route['face'] = 'native'): Route => ({ method, path, handler, face, scopes: [] });
    for (let i = 0; i < 30; i++) synthetic.push(row('GET', `/v1/streams/{id}/packets/p${i}`, `v1/packets-${i}`));
    for (let i = 0; i < 30; i++) synthetic.push(row('POST', `/v1/streams/{id}/v${i}`, `v1/streams-x${i}`));
    for (let i = 0; i < 20; i++) synthetic.push(row('GET', `/api/data/v1/streams/x${i}`, `domo/x-${i}`, 'domo'));
    for (let i = 0; i < 20; i++) synthetic.push(row('PUT', `/homes/{homeId}/x${i}`, `sds/x-${i}`, 'sds'));
    for (let i = 0; i < 20; i++) synthetic.push(row('DELETE', `/api/v1/x${i}`, `dbconvert/x-${i}`, 'dbconvert'));
    const big = synth({ routes: synthetic });
    expect(resourcesOf(big.all, 'AWS::ApiGatewayV2::Route')).toHaveLength(120);
    expect([...big.areas.keys()].sort()).toEqual(['Dbconvert', 'Domo', 'Sds', 'StreamData', 'Streams']);
    const counts = resourceCounts(big.assembly);
    for (const [file, count] of Object.entries(counts)) expect(count, file).toBeLessThan(450);
    // All in one stack they would not fit: about five resources a route.
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(500);
  });

  it('fails synthesis with the area to split when one stack is over budget', () => {
    const crowded: Route[] = Array.from({ length: 95 }, (_, i) => ({
      method: 'GET' as const,
      path: `/v1/things${i}`,
      handler: `v1/things-${i}`,
      face: 'native' as const,
      scopes: [],
    }));
    const { assembly: tooBig } = synth({ routes: crowded });
    expect(() => checkResourceBudget(tooBig)).toThrow(/NativeApi.*Split the area/);
  });
});
