import { Duration, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** Request headers browsers may send (API.md: the key headers, If-Match, Idempotency-Key). */
const CORS_ALLOW_HEADERS = ['authorization', 'content-type', 'content-encoding', 'x-api-key', 'if-match', 'idempotency-key'];
/** As shared/http/handler.ts exposes them. */
const CORS_EXPOSE_HEADERS = ['etag', 'location', 'x-request-id'];

export interface SluiceApiProps {
  authorizer: lambda.IFunction;
}

/**
 * The HTTP API, its $default stage and the REQUEST authorizer. Routes,
 * integrations and their functions live in the area stacks (ApiArea).
 *
 * The authorizer always lets the request through with the principal (or none)
 * as context; handlers answer 401/403 in their face's error shape. Hence no
 * identity source (API Gateway would otherwise answer 401 itself when the
 * header is missing) and no result caching (a deleted key must stop working at
 * once, and with no identity source there is no cache key anyway).
 */
export class SluiceApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly authorizerId: string;

  constructor(scope: Construct, id: string, props: SluiceApiProps) {
    super(scope, id);
    this.api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Sluice: stream management, four API faces',
      createDefaultStage: true,
      corsPreflight: {
        allowOrigins: ['*'],
        allowMethods: [apigw.CorsHttpMethod.ANY],
        allowHeaders: CORS_ALLOW_HEADERS,
        exposeHeaders: CORS_EXPOSE_HEADERS,
        maxAge: Duration.days(1),
      },
    });
    const stack = Stack.of(this);
    const authorizer = new apigw.HttpAuthorizer(this, 'Authorizer', {
      httpApi: this.api,
      type: apigw.HttpAuthorizerType.LAMBDA,
      authorizerName: 'api-key',
      identitySource: [],
      authorizerUri: `arn:${stack.partition}:apigateway:${stack.region}:lambda:path/2015-03-31/functions/${props.authorizer.functionArn}/invocations`,
      payloadFormatVersion: apigw.AuthorizerPayloadVersion.VERSION_2_0,
      enableSimpleResponses: true,
      resultsCacheTtl: Duration.seconds(0),
    });
    // An empty IdentitySource list is not the same as none: leave it out.
    (authorizer.node.defaultChild as apigw.CfnAuthorizer).addPropertyDeletionOverride('IdentitySource');
    this.authorizerId = authorizer.authorizerId;
    props.authorizer.addPermission('InvokeByApiAuthorizer', {
      principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn: stack.formatArn({ service: 'execute-api', resource: this.api.apiId, resourceName: `authorizers/${this.authorizerId}` }),
    });
  }

  /** The URL of the $default stage. */
  get url(): string {
    return this.api.apiEndpoint;
  }
}
