import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_RESOURCE_BUDGET } from './areas.ts';

/** Resources per synthesized template (top-level and nested stacks), by file name. */
export function resourceCounts(assembly: CloudAssembly): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of readdirSync(assembly.directory).filter((f) => f.endsWith('.template.json'))) {
    const template = JSON.parse(readFileSync(join(assembly.directory, file), 'utf8')) as { Resources?: object };
    counts[file] = Object.keys(template.Resources ?? {}).length;
  }
  return counts;
}

/** Fails synthesis when a stack is over budget, naming the stack; see infra/areas.ts. */
export function checkResourceBudget(assembly: CloudAssembly, budget = STACK_RESOURCE_BUDGET): void {
  const over = Object.entries(resourceCounts(assembly)).filter(([, count]) => count > budget);
  if (over.length > 0) {
    throw new Error(
      `CloudFormation resource budget exceeded (${budget} per stack): ${over.map(([file, n]) => `${file} has ${n}`).join(', ')}. ` +
        'Split the area with a rule in infra/areas.ts.',
    );
  }
}
