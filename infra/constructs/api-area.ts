import { NestedStack, Stack, type NestedStackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { routeKey, type Route } from '#functions/routes.ts';
import { AccessProfiles, type AccessMode, type Need, type Orchestration } from './access.ts';
import { SluiceFunction, idOf } from './function.ts';

export interface ApiAreaProps extends NestedStackProps {
  routes: Route[];
  httpApi: apigw.IHttpApi;
  authorizerId: string;
  table: dynamodb.ITable;
  bucket: s3.IBucket;
  orchestration: Orchestration;
  environment: Record<string, string>;
  bundle?: boolean;
}

/** A handler module's grants: read-only when every route it serves is a GET. */
export function accessOf(routes: Route[]): { mode: AccessMode; needs: Need[] } {
  return {
    mode: routes.every((r) => r.method === 'GET') ? 'read' : 'write',
    needs: [...new Set(routes.flatMap((r) => r.needs ?? []))].sort(),
  };
}

/**
 * One area of the API as a nested stack: per handler module a function (with
 * its log group), one Lambda integration and one invoke permission; per route
 * one AWS::ApiGatewayV2::Route; per access profile one role. About four
 * resources per route, so an area of ~100 routes still fits a stack.
 */
export class ApiArea extends NestedStack {
  readonly functions = new Map<string, SluiceFunction>();

  constructor(scope: Construct, id: string, props: ApiAreaProps) {
    super(scope, id, props);
    const profiles = new AccessProfiles(this, { table: props.table, bucket: props.bucket, orchestration: props.orchestration });
    const byHandler = new Map<string, Route[]>();
    for (const route of props.routes) byHandler.set(route.handler, [...(byHandler.get(route.handler) ?? []), route]);
    const stack = Stack.of(this);

    for (const [handler, routes] of byHandler) {
      const { mode, needs } = accessOf(routes);
      const fn = new SluiceFunction(this, idOf(handler), {
        handler,
        role: profiles.roleFor(mode, needs),
        environment: props.environment,
        bundle: props.bundle,
      });
      this.functions.set(handler, fn);
      // One permission per function for all its routes (not one per route).
      fn.function.addPermission('InvokeByApi', {
        principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        sourceArn: stack.formatArn({ service: 'execute-api', resource: props.httpApi.apiId, resourceName: '*/*' }),
      });
      const integration = new apigw.CfnIntegration(fn, 'Integration', {
        apiId: props.httpApi.apiId,
        integrationType: 'AWS_PROXY',
        integrationUri: fn.function.functionArn,
        payloadFormatVersion: '2.0',
      });
      for (const route of routes) {
        const keyed = route.auth !== false;
        new apigw.CfnRoute(fn, `Route${idOf(`${route.method} ${route.path}`)}`, {
          apiId: props.httpApi.apiId,
          routeKey: routeKey(route),
          target: `integrations/${integration.ref}`,
          authorizationType: keyed ? 'CUSTOM' : 'NONE',
          authorizerId: keyed ? props.authorizerId : undefined,
        });
      }
    }
  }
}
