import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openMysql, openPostgres } from '#shared/connections/drivers.ts';
import { classify, RunConfigurationError, TransientError } from '#shared/engine/errors.ts';
import { pgCdcError } from '#shared/engine/nodes/pg-cdc.ts';
import { mysqlCdcError } from '#shared/engine/nodes/mysql-cdc.ts';

describe('driver errors', () => {
  it('keep their code, so a refused connection is retried, and never carry the password', async () => {
    for (const open of [openPostgres, openMysql]) {
      const params = { type: open === openPostgres ? 'postgresql' : 'mysql', host: '127.0.0.1', port: 1, database: 'd', username: 'u', password: 'pw-ECONNREFUSED-secret' } as const;
      const error = await open(params, 2000).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(error?.code).toBe('ECONNREFUSED');
      expect(error?.message).not.toContain('pw-ECONNREFUSED-secret');
      expect(classify(error)).toBeInstanceOf(TransientError);
    }
  });

  it('time out on a server that never answers with ETIMEDOUT (node-postgres gives no code), retried like a refusal', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      for (const open of [openPostgres, openMysql]) {
        const params = { type: open === openPostgres ? 'postgresql' : 'mysql', host: '127.0.0.1', port, database: 'd', username: 'u', password: 'pw-timeout-secret' } as const;
        const error = await open(params, 500).then(
          () => undefined,
          (e: unknown) => e as Error & { code?: string },
        );
        expect(error?.code, open.name).toBe('ETIMEDOUT');
        expect(classify(error)).toBeInstanceOf(TransientError);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('classify database errors: lost connections, overload, shutdowns, deadlocks and a busy slot are retried; permissions and missing objects are not', () => {
    const dbError = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    for (const code of ['08006', '08001', '53300', '57P01', '57P03', '40001', '40P01', '55006', 'ER_CON_COUNT_ERROR', 'ER_LOCK_DEADLOCK', 'PROTOCOL_CONNECTION_LOST', 'EHOSTUNREACH']) {
      expect(classify(dbError(code)), code).toBeInstanceOf(TransientError);
    }
    expect(classify(new Error('Connection terminated unexpectedly'))).toBeInstanceOf(TransientError);
    for (const code of ['42501', '42P01', 'ER_NO_SUCH_TABLE', 'ER_SPECIFIC_ACCESS_DENIED_ERROR']) {
      const error = dbError(code);
      expect(classify(error), code).toBe(error);
    }
    // A refused login fails the run at once, as something to fix on the connection.
    for (const code of ['28P01', '28000', '3D000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']) {
      const told = classify(dbError(code, 'password authentication failed for user "app"'));
      expect(told, code).toBeInstanceOf(RunConfigurationError);
      expect((told as Error).message).toBe('the database server refused the connection: password authentication failed for user "app". Check the connection\'s username, password and database (PUT on the connection)');
    }
  });

  it('CDC set-up refusals become configuration errors naming the fix; anything else passes through', () => {
    const dbError = (code: string, message: string) => Object.assign(new Error(message), { code });
    const told = (error: unknown) => {
      expect(error).toBeInstanceOf(RunConfigurationError);
      expect(classify(error)).toBe(error);
      return (error as Error).message;
    };
    expect(told(pgCdcError(dbError('42501', 'permission denied to use replication slots'), 'app'))).toMatch(/^role "app" lacks the REPLICATION attribute.*ALTER ROLE "app" WITH REPLICATION/);
    expect(told(pgCdcError(dbError('55000', 'logical decoding requires wal_level >= logical'), 'app'))).toMatch(/wal_level = logical.*restart/);
    expect(told(pgCdcError(dbError('53400', 'all replication slots are in use'), 'app'))).toMatch(/max_replication_slots/);
    expect(told(mysqlCdcError(dbError('ER_SPECIFIC_ACCESS_DENIED_ERROR', 'Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s)'), 'app'))).toMatch(
      /^user app lacks .*GRANT REPLICATION SLAVE, REPLICATION CLIENT ON \*\.\* TO 'app'/,
    );
    // Error 1236 for a start position whose binlog was purged: what happened and the reset (with a position: a bare reset goes back to the anchor, purged too) and copy to do.
    const purged = Object.assign(dbError('ER_SOURCE_FATAL_ERROR_READING_BINLOG', 'Could not find first log file name in binary log index file'), { errno: 1236 });
    const gone = told(mysqlCdcError(purged, 'app', { streamId: 'stm_1', nodeId: 'src', from: { file: 'mysql-bin.000007', position: 1234 } }));
    expect(gone).toMatch(/^the binlog position this stream reads from \(mysql-bin\.000007 at 1234\) is gone from the server \(the server said: Could not find first log file name in binary log index file\): its binlog was purged/);
    expect(gone).toContain('POST /v1/streams/stm_1/offsets/reset {"offsets": {"src": {"file": "<File>", "position": <Position>}}}');
    expect(gone).toContain('copy the table again with a convert run');
    // Older mysql2 names it ER_MASTER_…; a position past the end of a reset binlog is the same case; without ids the message has placeholders.
    expect(told(mysqlCdcError(dbError('ER_MASTER_FATAL_ERROR_READING_BINLOG', 'Could not find first log file name in binary log index file'), 'app'))).toContain('POST /v1/streams/{id}/offsets/reset {"offsets": {"<node id>"');
    expect(told(mysqlCdcError(Object.assign(dbError('x', 'Client requested master to start replication from impossible position'), { errno: 1236 }), 'app'))).toMatch(/is gone from the server/);
    // Other failures error 1236 reports are not this one.
    const tooBig = Object.assign(dbError('ER_SOURCE_FATAL_ERROR_READING_BINLOG', 'log event entry exceeded max_allowed_packet; Increase max_allowed_packet on master'), { errno: 1236 });
    expect(mysqlCdcError(tooBig, 'app')).toBe(tooBig);
    for (const other of [dbError('42501', 'permission denied for table t'), dbError('ECONNREFUSED', 'connect ECONNREFUSED'), dbError('57P01', 'terminating connection')]) {
      expect(pgCdcError(other, 'app')).toBe(other);
      expect(mysqlCdcError(other, 'app')).toBe(other);
    }
  });
});
