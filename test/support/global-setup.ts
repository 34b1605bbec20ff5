import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDatabases, type Databases } from './databases.ts';

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789';

declare module 'vitest' {
  export interface ProvidedContext {
    sluiceUrl: string;
    adminKey: string;
    dataDir: string;
    runtimeEnv: Record<string, string>;
    /** Real PostgreSQL and MariaDB servers (test/support/databases.ts). */
    databases: Databases;
  }
}

/** Starts the local runtime exactly as `npm start` does, on free ports, with throwaway data. */
export default async function setup(project: TestProject) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const databasesStarting = startDatabases();
  databasesStarting.catch(() => undefined);
  const child: ChildProcess = spawn(process.execPath, ['infra/local/main.ts'], {
    env: { ...process.env, PORT: '0', SLUICE_API_KEY: TEST_ADMIN_KEY, SLUICE_DATA_DIR: dataDir, SLUICE_IN_MEMORY: 'true', SLUICE_TEST_HOOKS: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local runtime did not start in 90 s:\n${output}`)), 90_000);
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /Sluice listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.stderr!.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => reject(new Error(`local runtime exited with ${code}:\n${output}`)));
  }).catch(async (error) => {
    await databasesStarting.then((dbs) => dbs.stop(), () => undefined);
    throw error;
  });
  child.stdout!.on('data', (chunk) => process.env.SLUICE_TEST_VERBOSE && process.stdout.write(chunk));
  child.stderr!.on('data', (chunk) => process.stderr.write(chunk));
  const runtime = JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8'));
  project.provide('sluiceUrl', url);
  project.provide('adminKey', TEST_ADMIN_KEY);
  project.provide('dataDir', dataDir);
  project.provide('runtimeEnv', runtime.env);
  const databases = await databasesStarting.catch((error) => {
    child.kill('SIGTERM');
    throw error;
  });
  const { stop: stopDatabases, ...databaseParams } = databases;
  project.provide('databases', databaseParams);

  return async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
    await stopDatabases();
  };
}
