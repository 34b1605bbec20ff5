import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const KEY = 'restart-test-admin-key';
const dataDir = mkdtempSync(join(tmpdir(), 'sluice-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `npm start` as a user runs it: a child process, the ready line, SIGTERM to stop. */
async function withRuntime<T>(use: (url: string) => Promise<T>): Promise<{ result: T; output: string; exitCode: number | null }> {
  const child = spawn(process.execPath, ['infra/local/main.ts'], {
    env: { ...process.env, PORT: '0', SLUICE_API_KEY: KEY, SLUICE_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (c) => (output += c));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /Sluice listening on (\S+)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
  const result = await use(url);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.kill('SIGTERM');
  const exitCode = await exited;
  return { result, output, exitCode };
}

describe('the local runtime', () => {
  it('keeps data across a stop and a start, and stops cleanly on SIGTERM', async () => {
    const first = await withRuntime(async (url) => {
      const res = await fetch(`${url}/v1/streams`, {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'survivor' }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    });
    expect(first.exitCode).toBe(0);
    expect(first.output).toContain('Sluice stopping');

    const second = await withRuntime(async (url) => {
      const res = await fetch(`${url}/v1/streams/${first.result}`, { headers: { 'x-api-key': KEY } });
      return { status: res.status, body: (await res.json()) as { name: string } };
    });
    expect(second.result.status).toBe(200);
    expect(second.result.body.name).toBe('survivor');
    expect(second.exitCode).toBe(0);
  });
});
