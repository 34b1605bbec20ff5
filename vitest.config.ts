import { defineConfig } from 'vitest/config';

/**
 * unit: pure logic and AWS calls mocked with aws-sdk-client-mock, plus CDK assertions.
 * e2e: integration and end-to-end tests against one local runtime (real
 * DynamoDB Local, S3 server, Step Functions and Scheduler endpoints) started
 * once by the global setup.
 */
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/cdk/**/*.test.ts'], testTimeout: 60_000 } },
      {
        test: {
          name: 'e2e',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
    ],
  },
});
