import { TransientError } from './errors.ts';

/**
 * Test-only switches, read from markers in a stream's description when the
 * run starts and copied onto the run as `testHooks` (and, for group runs,
 * from a stream group's description, see GroupTestHooks). They do nothing
 * unless SLUICE_TEST_HOOKS=true, which only the test global setup sets; a
 * deployed stack never sets it.
 *
 *   [test:fault-after-commit=N]   ProcessBundle throws Sluice.Transient once, right after committing bundle N
 *   [test:fault-before-commit=N]  ... once, after bundle N's sink writes but before its commit
 *   [test:continue-after=N]       continue-as-new after N state-machine loops (instead of 1000)
 *   [test:bundle-delay-ms=N]      sleep N ms before each bundle (makes a pause land mid-run)
 */
export interface TestHooks {
  faultAfterCommit?: number;
  faultBeforeCommit?: number;
  continueAfter?: number;
  bundleDelayMs?: number;
}

export const testHooksEnabled = () => process.env.SLUICE_TEST_HOOKS === 'true';

const markers = (description: string) => [...description.matchAll(/\[test:([a-z-]+)=(\d+)\]/g)].map(([, name, value]) => [name, Number(value)] as const);

export function parseTestHooks(description: string): TestHooks | undefined {
  if (!testHooksEnabled()) return undefined;
  const hooks: TestHooks = {};
  for (const [name, n] of markers(description)) {
    if (name === 'fault-after-commit') hooks.faultAfterCommit = n;
    if (name === 'fault-before-commit') hooks.faultBeforeCommit = n;
    if (name === 'continue-after') hooks.continueAfter = n;
    if (name === 'bundle-delay-ms') hooks.bundleDelayMs = n;
  }
  return Object.keys(hooks).length ? hooks : undefined;
}

/**
 * On a stream group's description:
 *
 *   [test:refuse-start-execution=N]  the local Step Functions endpoint refuses the StartExecution of
 *                                    attempts 1..N of the group's runs (infra/local/stepfunctions.ts)
 *
 * On a stream's description, the same marker makes the endpoint refuse the purge
 * started when the stream is deleted (the sweep's later start is not refused).
 */
export interface GroupTestHooks {
  refuseStartExecution?: number;
}

export function parseGroupTestHooks(description: string): GroupTestHooks | undefined {
  if (!testHooksEnabled()) return undefined;
  const hooks: GroupTestHooks = {};
  for (const [name, n] of markers(description)) if (name === 'refuse-start-execution') hooks.refuseStartExecution = n;
  return Object.keys(hooks).length ? hooks : undefined;
}

const fired = new Set<string>();

export function testFault(run: { id: string; testHooks?: TestHooks }, bundle: number, where: 'before-commit' | 'after-commit'): void {
  const hooks = run.testHooks;
  if (!hooks || !testHooksEnabled()) return;
  const at = where === 'after-commit' ? hooks.faultAfterCommit : hooks.faultBeforeCommit;
  const key = `${run.id}#${bundle}#${where}`;
  if (at !== bundle || fired.has(key)) return;
  fired.add(key);
  throw new TransientError(`injected test fault ${where} of bundle ${bundle}`);
}

export async function testDelay(run: { testHooks?: TestHooks }): Promise<void> {
  const ms = testHooksEnabled() ? run.testHooks?.bundleDelayMs : undefined;
  if (ms) await new Promise((resolve) => setTimeout(resolve, ms));
}
