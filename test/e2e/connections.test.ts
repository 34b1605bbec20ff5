import { describe, expect, inject, it } from 'vitest';
import { newTenant, recordingApi, unique } from '../support/api.ts';

const dbs = () => inject('databases');

/** Every response of this file, to prove no password ever comes back. */
const { call, seen } = recordingApi();

const pgBody = (overrides: Record<string, unknown> = {}) => {
  const p = dbs().postgresql;
  return { name: unique('pg'), type: 'postgresql', host: p.host, port: p.port, database: p.database, username: p.username, password: p.password, ...overrides };
};
const myBody = (overrides: Record<string, unknown> = {}) => {
  const m = dbs().mysql;
  return { name: unique('my'), type: 'MySQL', host: m.host, port: m.port, database: m.database, username: m.username, password: m.password, ...overrides };
};

describe('connections /v1/connections', () => {
  it('creates, reads, lists, updates and deletes; the password is write-only', async () => {
    const { key } = await newTenant();
    const created = await call('POST', '/v1/connections', { key, body: pgBody({ ssl: false, options: { schema: 'public' } }) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'postgresql', host: '127.0.0.1', port: dbs().postgresql.port, database: 'sluice', username: 'sluice', ssl: false, options: { schema: 'public' }, hasPassword: true });
    expect(created.body.id).toMatch(/^conn_[0-9A-Z]{26}$/);
    expect(created.body).not.toHaveProperty('password');
    expect(created.body.createdAt).toMatch(/Z$/);
    const id = created.body.id;

    const got = await call('GET', `/v1/connections/${id}`, { key });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    expect(got.headers.get('etag')).toBe('"1"');

    const list = await call('GET', '/v1/connections', { key });
    expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([id]);
    expect(list.body.nextCursor).toBeNull();

    // Another solution does not see it.
    const other = await newTenant();
    expect((await call('GET', `/v1/connections/${id}`, { key: other.key })).status).toBe(404);
    expect((await call('GET', '/v1/connections', { key: other.key })).body.items).toEqual([]);

    // PUT without a password keeps the stored one (ping still works).
    const { password: _, ...withoutPassword } = pgBody({ name: 'renamed' });
    const put = await call('PUT', `/v1/connections/${id}`, { key, body: withoutPassword, headers: { 'if-match': '"1"' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: 'renamed', revision: 2, hasPassword: true });
    // A refused PUT changes nothing, not even the password it carried.
    expect((await call('PUT', `/v1/connections/${id}`, { key, body: { ...withoutPassword, password: 'not-the-password' }, headers: { 'if-match': '"1"' } })).status).toBe(412);
    const ping = await call('POST', `/v1/connections/${id}/ping`, { key });
    expect(ping.status).toBe(200);
    expect(ping.body.ok).toBe(true);

    expect((await call('DELETE', `/v1/connections/${id}`, { key })).status).toBe(204);
    expect((await call('GET', `/v1/connections/${id}`, { key })).status).toBe(404);
  });

  it('pings running servers: PostgreSQL and MySQL (MariaDB) answer ok with a latency', async () => {
    const { key } = await newTenant();
    for (const body of [pgBody(), myBody()]) {
      const created = await call('POST', '/v1/connections', { key, body });
      expect(created.status).toBe(201);
      const ping = await call('POST', `/v1/connections/${created.body.id}/ping`, { key });
      expect(ping.status).toBe(200);
      expect(ping.body).toEqual({ ok: true, latencyMs: expect.any(Number) });
    }
  });

  it('answers 503 with the driver reason for a server that is down and for a wrong password', async () => {
    const { key } = await newTenant();
    const down = await call('POST', '/v1/connections', { key, body: pgBody({ port: 1 }) });
    const pingDown = await call('POST', `/v1/connections/${down.body.id}/ping`, { key });
    expect(pingDown.status).toBe(503);
    expect(pingDown.body.ok).toBe(false);
    expect(pingDown.body.error).toMatch(/ECONNREFUSED/);

    const wrongPg = await call('POST', '/v1/connections', { key, body: pgBody({ password: 'not-the-Password-42' }) });
    const pingWrongPg = await call('POST', `/v1/connections/${wrongPg.body.id}/ping`, { key });
    expect(pingWrongPg.status).toBe(503);
    expect(pingWrongPg.body.error).toMatch(/password authentication failed/);

    const wrongMy = await call('POST', '/v1/connections', { key, body: myBody({ password: 'not-the-Password-42' }) });
    const pingWrongMy = await call('POST', `/v1/connections/${wrongMy.body.id}/ping`, { key });
    expect(pingWrongMy.status).toBe(503);
    expect(pingWrongMy.body.error).toMatch(/Access denied/);
  });

  it('refuses bad input with 400 and unknown ids with 404', async () => {
    const { key } = await newTenant();
    const badType = await call('POST', '/v1/connections', { key, body: pgBody({ type: 'oracle' }) });
    expect(badType.status).toBe(400);
    expect(badType.body.error.message).toMatch(/postgresql, mysql or s3/);
    const noHost = await call('POST', '/v1/connections', { key, body: pgBody({ host: '' }) });
    expect(noHost.status).toBe(400);
    expect(noHost.body.error.details).toEqual([{ path: 'host', message: 'required' }]);
    expect((await call('POST', '/v1/connections', { key, body: pgBody({ port: 70000 }) })).status).toBe(400);
    expect((await call('POST', '/v1/connections/conn_01ARZ3NDEKTSV4RRFFQ69G5FAV/ping', { key })).status).toBe(404);
    expect((await call('DELETE', '/v1/connections/conn_01ARZ3NDEKTSV4RRFFQ69G5FAV', { key })).status).toBe(404);
  });

  it('refuses to delete a connection a stream uses (409) and allows it once the stream is gone', async () => {
    const { key } = await newTenant();
    const source = (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id;
    const target = (await call('POST', '/v1/connections', { key, body: myBody() })).body.id;
    const stream = await call('POST', '/v1/streams', {
      key,
      body: {
        name: unique('copy'),
        definition: {
          nodes: [
            { id: 'src', type: 'table-source', config: { connectionId: source, tables: [{ name: 'users' }] } },
            { id: 'dst', type: 'table-sink', config: { connectionId: target } },
          ],
          edges: [{ from: 'src', to: 'dst' }],
        },
      },
    });
    expect(stream.status).toBe(201);
    const refused = await call('DELETE', `/v1/connections/${target}`, { key });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(stream.body.id);
    expect((await call('DELETE', `/v1/streams/${stream.body.id}`, { key })).status).toBe(204);
    expect((await call('DELETE', `/v1/connections/${target}`, { key })).status).toBe(204);
    expect((await call('DELETE', `/v1/connections/${source}`, { key })).status).toBe(204);
  });

  it('refuses to change the type of a connection a stream uses (409 naming it), leaving it as it was; other changes are fine, and the type once the stream is gone', async () => {
    const { key } = await newTenant();
    const source = (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id;
    const target = (await call('POST', '/v1/connections', { key, body: myBody() })).body.id;
    const stream = await call('POST', '/v1/streams', {
      key,
      body: {
        name: unique('cdc'),
        definition: {
          mode: 'continuous',
          nodes: [
            { id: 'src', type: 'table-source', config: { connectionId: source, tables: [{ name: 'users' }] } },
            { id: 'dst', type: 'table-sink', config: { connectionId: target } },
          ],
          edges: [{ from: 'src', to: 'dst' }],
        },
      },
    });
    expect(stream.status, stream.text).toBe(201);
    const before = await call('GET', `/v1/connections/${source}`, { key });

    // Each refused body carries a wrong password: none of it may be stored.
    const changes: [Record<string, unknown>, string][] = [
      [myBody({ password: 'not-the-Password-42' }), 'mysql'],
      [{ name: 's3', type: 'S3', database: 'some-bucket', password: 'not-the-Password-42' }, 's3'],
    ];
    for (const [body, type] of changes) {
      const refused = await call('PUT', `/v1/connections/${source}`, { key, body, headers: { 'if-match': '"1"' } });
      expect(refused.status, refused.text).toBe(409);
      expect(refused.body.error).toEqual({
        code: 'conflict',
        message: `connection ${source} is used by stream ${stream.body.id}; its type cannot change from postgresql to ${type} while it uses it`,
        requestId: expect.any(String),
      });
    }
    // A second read: the same connection, revision and password (a real login still works).
    const after = await call('GET', `/v1/connections/${source}`, { key });
    expect(after.body).toEqual(before.body);
    expect(after.headers.get('etag')).toBe('"1"');
    expect((await call('POST', `/v1/connections/${source}/ping`, { key })).body.ok).toBe(true);

    // The same type in another casing, with other settings, is no type change.
    const renamed = await call('PUT', `/v1/connections/${source}`, { key, body: pgBody({ name: 'renamed', type: 'Postgres' }), headers: { 'if-match': '"1"' } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'renamed', type: 'postgresql', revision: 2 });

    expect((await call('DELETE', `/v1/streams/${stream.body.id}`, { key })).status).toBe(204);
    const retyped = await call('PUT', `/v1/connections/${source}`, { key, body: myBody({ name: 'now-mysql' }) });
    expect(retyped.status, retyped.text).toBe(200);
    expect(retyped.body).toMatchObject({ type: 'mysql', port: dbs().mysql.port, revision: 3 });
    expect((await call('GET', `/v1/connections/${source}`, { key })).body.type).toBe('mysql');
  });

  it('never returns a password in any response of this file', () => {
    expect(seen.length).toBeGreaterThan(20);
    for (const password of [dbs().postgresql.password, dbs().mysql.password, 'not-the-Password-42']) {
      for (const res of seen) expect(res.text).not.toContain(password);
    }
  });
});
