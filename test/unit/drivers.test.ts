import { describe, expect, it } from 'vitest';
import { openMysql, openPostgres } from '#shared/connections/drivers.ts';
import { classify, TransientError } from '#shared/engine/errors.ts';

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
});
