import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { SluiceStack, type SluiceStackProps } from '#infra/stack.ts';

export interface Synthesized {
  stack: SluiceStack;
  root: Template;
  /** Area name -> its nested stack's template. */
  areas: Map<string, Template>;
  all: Template[];
  assembly: CloudAssembly;
}

/** cdk.json's context (feature flags, template validation), so tests synthesize as `cdk synth` does. */
const cdkContext = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

/** Synthesizes the stack without bundling (inline stubs), so it takes well under a second. */
export function synth(props: SluiceStackProps = {}): Synthesized {
  const app = new App({ context: cdkContext });
  const stack = new SluiceStack(app, 'Sluice', { bundle: false, scheduledRunHandler: null, ...props });
  const assembly = app.synth();
  const root = Template.fromStack(stack);
  const areas = new Map([...stack.areas].map(([name, area]) => [name, Template.fromStack(area)]));
  return { stack, root, areas, all: [root, ...areas.values()], assembly };
}

export type Resource = { Type: string; Properties: Record<string, any> };

export function resourcesOf(templates: Template[], type: string): Resource[] {
  return templates.flatMap((t) => Object.values(t.findResources(type)) as Resource[]);
}
