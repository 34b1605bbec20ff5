/**
 * Real database servers for tests, CI and the benchmark: a PostgreSQL (15+,
 * `wal_level=logical`) and a MariaDB (binlog in ROW format), each on a free
 * loopback port with a throwaway data directory under a temp dir, tuned for
 * speed (no fsync). Installs the Debian packages only when the binaries are
 * missing. Usage from code: `const dbs = await startDatabases(); ...; await dbs.stop()`;
 * from a shell: `node test/support/databases.ts` starts both, prints their
 * connection parameters as JSON and stops them on Ctrl-C.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, chownSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface DatabaseParams {
  type: 'postgresql' | 'mysql';
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  /** A superuser-ish account for test fixtures. */
  adminUsername: string;
  adminPassword: string;
}

export interface Databases {
  postgresql: DatabaseParams;
  mysql: DatabaseParams;
}

export interface RunningDatabases extends Databases {
  stop(): Promise<void>;
}

const PASSWORD = 'sluice-test-Pa55word';
const ADMIN_PASSWORD = 'sluice-admin-Pa55word';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function pgBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .map(Number)
    .filter((v) => v >= 15)
    .sort((a, b) => b - a);
  for (const v of versions) if (existsSync(join(base, String(v), 'bin', 'postgres'))) return join(base, String(v), 'bin');
  return undefined;
}

function mariadbd(): string | undefined {
  for (const p of ['/usr/sbin/mariadbd', '/usr/sbin/mysqld']) if (existsSync(p)) return p;
  return undefined;
}

/** apt-get install the packages whose binaries are missing (Debian/Ubuntu, as root). */
export function installDatabasePackages(): void {
  const missing: string[] = [];
  if (!pgBinDir()) missing.push('postgresql');
  if (!mariadbd()) missing.push('mariadb-server');
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

/** Runs a command as `user` (root can't run initdb/postgres). */
function asUser(user: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return user ? ['runuser', ['-u', user, '--', cmd, ...args]] : [cmd, args];
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 30_000): Promise<void> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start in ${timeoutMs / 1000} s:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${output}`));
    });
  });
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

async function startPostgres(dir: string): Promise<{ params: DatabaseParams; child: ChildProcess }> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL 15+ is not installed (apt-get install postgresql)');
  const user = userInfo().uid === 0 ? 'postgres' : undefined;
  const data = join(dir, 'pg');
  const pwfile = join(dir, 'pg-admin-password');
  writeFileSync(pwfile, ADMIN_PASSWORD);
  if (user) {
    const { uid, gid } = pgOwner(user);
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  const [initCmd, initArgs] = asUser(user, join(bin, 'initdb'), [
    '-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync',
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}${init.stdout}`);
  const port = await freePort();
  const [cmd, args] = asUser(user, join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
    '-c', 'wal_level=logical', '-c', 'max_replication_slots=20', '-c', 'max_wal_senders=20',
    '-c', 'fsync=off', '-c', 'full_page_writes=off',
    // synchronous_commit stays on: logical decoding only sees flushed WAL, so CDC tests would have to wait for the WAL writer.
    '-c', 'max_connections=200', '-c', 'shared_buffers=128MB',
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(child, /database system is ready to accept connections/, 'PostgreSQL');
  const params: DatabaseParams = {
    type: 'postgresql', host: '127.0.0.1', port, database: 'sluice', username: 'sluice', password: PASSWORD,
    adminUsername: 'postgres', adminPassword: ADMIN_PASSWORD,
  };
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: ADMIN_PASSWORD, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE ROLE sluice LOGIN REPLICATION PASSWORD '${PASSWORD}'`);
  await admin.query('CREATE DATABASE sluice OWNER sluice');
  await admin.end();
  return { params, child };
}

function pgOwner(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function startMariadb(dir: string): Promise<{ params: DatabaseParams; child: ChildProcess }> {
  const bin = mariadbd();
  if (!bin) throw new Error('MariaDB is not installed (apt-get install mariadb-server)');
  const data = join(dir, 'mysql');
  const installer = existsSync('/usr/bin/mariadb-install-db') ? '/usr/bin/mariadb-install-db' : '/usr/bin/mysql_install_db';
  const asRoot = userInfo().uid === 0 ? ['--user=root'] : [];
  const init = spawnSync(installer, ['--no-defaults', `--datadir=${data}`, ...asRoot, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr}${init.stdout}`);
  const initFile = join(dir, 'mysql-init.sql');
  writeFileSync(
    initFile,
    [
      `CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '${ADMIN_PASSWORD}';`,
      // mariadb-install-db already made root@127.0.0.1 without a password, so the CREATE above did nothing.
      `ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '${ADMIN_PASSWORD}';`,
      `GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;`,
      `CREATE DATABASE IF NOT EXISTS sluice CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;`,
      `CREATE USER IF NOT EXISTS 'sluice'@'%' IDENTIFIED BY '${PASSWORD}';`,
      `GRANT ALL PRIVILEGES ON *.* TO 'sluice'@'%';`,
      `FLUSH PRIVILEGES;`,
    ].join('\n'),
  );
  const port = await freePort();
  const child = spawn(bin, [
    '--no-defaults', `--datadir=${data}`, ...asRoot, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${join(dir, 'mysql.sock')}`,
    `--pid-file=${join(dir, 'mysql.pid')}`, `--init-file=${initFile}`, '--skip-name-resolve',
    '--server-id=1', `--log-bin=${join(dir, 'binlog')}`, '--binlog-format=ROW', '--binlog-row-image=FULL', '--sync-binlog=0',
    '--innodb-flush-log-at-trx-commit=0', '--innodb-doublewrite=0', '--innodb-buffer-pool-size=256M', '--innodb-log-file-size=64M',
    '--character-set-server=utf8mb4', '--collation-server=utf8mb4_bin', '--max-connections=300', '--max-allowed-packet=64M',
    '--skip-log-error',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(child, /ready for connections/, 'MariaDB');
  return {
    params: {
      type: 'mysql', host: '127.0.0.1', port, database: 'sluice', username: 'sluice', password: PASSWORD,
      adminUsername: 'root', adminPassword: ADMIN_PASSWORD,
    },
    child,
  };
}

/** Starts both servers (in parallel); `stop()` ends them and deletes their data. */
export async function startDatabases(): Promise<RunningDatabases> {
  installDatabasePackages();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-db-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [pg, my] = await Promise.all([
      startPostgres(dir).then((r) => (children.push(r.child), r)),
      startMariadb(dir).then((r) => (children.push(r.child), r)),
    ]);
    return { postgresql: pg.params, mysql: my.params, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

if (import.meta.main) {
  const dbs = await startDatabases();
  const { stop, ...params } = dbs;
  console.log(JSON.stringify(params, null, 2));
  const end = () => void stop().then(() => process.exit(0));
  process.once('SIGINT', end);
  process.once('SIGTERM', end);
}
