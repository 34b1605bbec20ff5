import { App } from 'aws-cdk-lib';
import { checkResourceBudget } from './budget.ts';
import { SluiceStack } from './stack.ts';

/** The CDK app (cdk.json "app"). Environment-agnostic: deploys to the CLI's account and region. */
const app = new App();
new SluiceStack(app, 'Sluice', { description: 'Sluice: serverless stream management' });
checkResourceBudget(app.synth());
