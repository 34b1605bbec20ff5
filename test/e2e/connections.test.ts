import { describe, expect, inject, it } from 'vitest';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { newTenant, recordingApi, unique } from '../support/api.ts';
import { tableReader } from '../support/dynamo.ts';
import { claimsOf, connectionItem, storedPassword } from '../support/connections.ts';

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


/** table-source on `source` → table-sink on `target`. */
const copyDefinition = (source: string, target: string) => ({
  nodes: [
    { id: 'src', type: 'table-source', config: { connectionId: source, tables: [{ name: 'users' }] } },
    { id: 'dst', type: 'table-sink', config: { connectionId: target } },
  ],
  edges: [{ from: 'src', to: 'dst' }],
});
const UNKNOWN_CONN = 'conn_01ARZ3NDEKTSV4RRFFQ69G5FAV';
const missing = (connectionId: string, node: number) => ({ path: `definition.nodes[${node}].config.connectionId`, message: `connection ${connectionId} does not exist in this solution` });
/** The detail of a node whose connection is of a type it cannot use. */
const mistyped = (connectionId: string, node: number, message: string) => ({ path: `definition.nodes[${node}].config.connectionId`, message: `connection ${connectionId} ${message}` });
const TABLE_ON_S3 = (node: string) => `is an s3 connection; a ${node} needs postgresql or mysql`;

/** A refused stream write: 400 in the native envelope, its message the first problem, `details` every node's. */
function expectNodeRefusal(res: { status: number; text: string; body: any }, details: readonly { path: string; message: string }[]) {
  expect(res.status, res.text).toBe(400);
  expect(res.body.error).toEqual({ code: 'invalid_request', message: `${details[0].message} (${details[0].path})`, details, requestId: expect.any(String) });
}

/** The refused transactions claimed nothing. */
async function expectUnclaimed(...ids: string[]) {
  for (const id of ids) expect(await connectionItem(id)).not.toHaveProperty('claims');
}
const S3_ON_PG = 'is a postgresql connection; an s3-source needs s3';
/** An s3 connection (its bucket need not exist: nothing here reads it). */
const s3Body = () => ({ name: unique('s3'), type: 's3', database: 'claims-bucket' });
/** s3-source on `connectionId`, then optionally a table-sink on `sink`. */
const s3Definition = (connectionId: string, sink?: string) => ({
  nodes: [
    { id: 'src', type: 's3-source', config: { connectionId, prefix: 'in/' } },
    sink ? { id: 'dst', type: 'table-sink', config: { connectionId: sink } } : { id: 'dst', type: 'dataset', config: {} },
  ],
  edges: [{ from: 'src', to: 'dst' }],
});
/** A tag as one frozen before today's checks could look: written straight to the table. */
async function seedTag(streamId: string, tag: string, definition: unknown) {
  await tableReader().client.send(
    new PutCommand({
      TableName: inject('runtimeEnv').TABLE_NAME,
      Item: { PK: `STM#${streamId}`, SK: `TAG#${tag}`, type: 'tag', streamId, tag, revision: 1, description: '', streamDescription: '', definition, createdAt: new Date().toISOString() },
    }),
  );
}
const streamItem = async (id: string) =>
  (await tableReader().client.send(new GetCommand({ TableName: inject('runtimeEnv').TABLE_NAME, Key: { PK: `STM#${id}`, SK: 'STREAM' }, ConsistentRead: true }))).Item;

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

  it('concurrent password changes: the password in use is always the one written with the revision that won', async () => {
    const { key, solution } = await newTenant();
    const created = await call('POST', '/v1/connections', { key, body: pgBody({ name: 'writer-0' }) });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const passwords = [dbs().postgresql.password, ...[1, 2, 3, 4, 5, 6].map((i) => `wrong-${i}-${unique('pw')}`)];
    const password = (i: number) => passwords[i];
    // Each writer renames it after itself, so the name tells whose write is the last one.
    const writers = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => call('PUT', `/v1/connections/${id}`, { key, body: pgBody({ name: `writer-${i}`, password: password(i) }) })));
    const accepted = writers.filter((w) => w.status === 200);
    expect(writers.every((w) => w.status === 200 || w.status === 409), writers.map((w) => w.status).join()).toBe(true);
    const now = await call('GET', `/v1/connections/${id}`, { key });
    expect(now.body.revision).toBe(1 + accepted.length);
    const winner = Number(now.body.name.split('-')[1]);
    expect(await storedPassword(solution.id, id)).toBe(password(winner));

    // Writing the right password back makes the ping work again: the new version is the one read.
    const fixed = await call('PUT', `/v1/connections/${id}`, { key, body: pgBody({ name: 'writer-0' }), headers: { 'if-match': `"${now.body.revision}"` } });
    expect(fixed.status, fixed.text).toBe(200);
    expect(await storedPassword(solution.id, id)).toBe(dbs().postgresql.password);
    // The version in use is also the secret's current one, as an operator looking at the secret expects.
    expect(await storedPassword(solution.id, id, 'AWSCURRENT')).toBe(dbs().postgresql.password);
    expect((await call('POST', `/v1/connections/${id}/ping`, { key })).body.ok).toBe(true);
    // A refused change (stale If-Match) leaves the password in use as it was, though its value was sent.
    expect((await call('PUT', `/v1/connections/${id}`, { key, body: pgBody({ password: 'refused-one' }), headers: { 'if-match': '"1"' } })).status).toBe(412);
    expect(await storedPassword(solution.id, id)).toBe(dbs().postgresql.password);
    expect(await storedPassword(solution.id, id, 'AWSCURRENT')).toBe(dbs().postgresql.password);
    expect((await call('POST', `/v1/connections/${id}/ping`, { key })).body.ok).toBe(true);

    // The version the item points at gone from the secret (as if removed by hand): the ping says what to do.
    const { client, tableName } = tableReader();
    await client.send(new UpdateCommand({ TableName: tableName, Key: { PK: `CONN#${id}`, SK: 'CONNECTION' }, UpdateExpression: 'SET secretVersion = :gone', ExpressionAttributeValues: { ':gone': 'v-gone' } }));
    const gone = await call('POST', `/v1/connections/${id}/ping`, { key });
    expect(gone.status).toBe(409);
    expect(gone.body.error.message).toMatch(/password \(version v-gone of secret .*\) is gone from Secrets Manager: set it again with a PUT of the connection that carries its password/);
    expect((await call('PUT', `/v1/connections/${id}`, { key, body: pgBody({ name: 'writer-0' }) })).status).toBe(200);
    expect((await call('POST', `/v1/connections/${id}/ping`, { key })).body.ok).toBe(true);
  });

  it("a batch table-source's explicit offset is checked against its tables", async () => {
    const { key } = await newTenant();
    const [source, target] = await Promise.all([call('POST', '/v1/connections', { key, body: pgBody() }), call('POST', '/v1/connections', { key, body: myBody() })]);
    const stream = await call('POST', '/v1/streams', { key, body: { name: unique('copy'), definition: copyDefinition(source.body.id, target.body.id) } });
    expect(stream.status, stream.text).toBe(201);
    const reset = (offset: unknown) => call('POST', `/v1/streams/${stream.body.id}/offsets/reset`, { key, body: { offsets: { src: offset } } });
    const past = await reset({ table: 2, key: null, rows: 0 });
    expect(past.status).toBe(400);
    expect(past.body.error.details).toEqual([{ path: 'offsets.src.table', message: 'at most 1' }]);
    const cdcShape = await reset({ lsn: '0/16B3748' });
    expect(cdcShape.status).toBe(400);
    // Within the first table, after the row with key 42; then all read.
    expect((await reset({ table: 0, key: [42], rows: 42 })).body.offsets).toEqual({ src: { table: 0, key: [42], rows: 42 } });
    expect((await reset({ table: 1, key: null, rows: 0 })).status).toBe(200);
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
        definition: copyDefinition(source, target),
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
        definition: { mode: 'continuous', ...copyDefinition(source, target) },
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

  it('a stream write naming a connection missing from its solution is 400 naming the node, and writes nothing', async () => {
    const { key } = await newTenant();
    const other = await newTenant();
    const own = (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id;
    const foreign = (await call('POST', '/v1/connections', { key: other.key, body: pgBody() })).body.id;

    const name = unique('copy');
    for (const [definition, details] of [
      [copyDefinition(UNKNOWN_CONN, own), [missing(UNKNOWN_CONN, 0)]],
      [copyDefinition(own, foreign), [missing(foreign, 1)]],
      // Every node naming a missing connection is told, not only the first.
      [copyDefinition(foreign, foreign), [missing(foreign, 0), missing(foreign, 1)]],
    ] as const) {
      expectNodeRefusal(await call('POST', '/v1/streams', { key, body: { name, definition } }), details);
    }
    expect((await call('GET', `/v1/streams?name=${name}`, { key })).body.items).toEqual([]);
    await expectUnclaimed(own, foreign);

    // Source and sink on one connection: one claim.
    const stream = await call('POST', '/v1/streams', { key, body: { name, definition: copyDefinition(own, own) } });
    expect(stream.status, stream.text).toBe(201);
    expect(await claimsOf(own)).toEqual({ usedBy: [stream.body.id], claims: 1 });

    const put = await call('PUT', `/v1/streams/${stream.body.id}`, { key, body: { name, definition: copyDefinition(own, UNKNOWN_CONN) } });
    expect(put.status, put.text).toBe(400);
    expect(put.body.error.details).toEqual([missing(UNKNOWN_CONN, 1)]);
    const patch = await call('PATCH', `/v1/streams/${stream.body.id}`, { key, body: { definition: copyDefinition(foreign, own) } });
    expect(patch.status, patch.text).toBe(400);
    expect(patch.body.error.details).toEqual([missing(foreign, 0)]);
    const kept = await call('GET', `/v1/streams/${stream.body.id}`, { key });
    expect(kept.body).toMatchObject({ revision: 1, definition: { nodes: [{ config: { connectionId: own } }, { config: { connectionId: own } }] } });
    expect(await claimsOf(own)).toEqual({ usedBy: [stream.body.id], claims: 1 });

    // An import that would create a stream is a stream write like any other.
    const imported = await call('POST', '/v1/streams/import', { key, body: { format: 'sluice.stream/v1', name: unique('imported'), definition: copyDefinition(UNKNOWN_CONN, own) } });
    expect(imported.status, imported.text).toBe(400);
    expect(imported.body.error.details).toEqual([missing(UNKNOWN_CONN, 0)]);
  });

  it('a definition may name at most 20 distinct connections (each is claimed in the write transaction)', async () => {
    const { key } = await newTenant();
    const own = (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id;
    const fanOut = (sinks: number) => ({
      nodes: [
        { id: 'src', type: 'table-source', config: { connectionId: own, tables: [{ name: 'users' }] } },
        ...Array.from({ length: sinks }, (_, i) => ({ id: `dst${i}`, type: 'table-sink', config: { connectionId: `conn_missing_${i}` } })),
      ],
      edges: Array.from({ length: sinks }, (_, i) => ({ from: 'src', to: `dst${i}` })),
    });
    const tooMany = await call('POST', '/v1/streams', { key, body: { name: unique('fan'), definition: fanOut(20) } });
    expect(tooMany.status, tooMany.text).toBe(400);
    expect(tooMany.body.error).toMatchObject({
      message: 'the definition names 21 distinct connections; a stream may use at most 20',
      details: [{ path: 'definition.nodes', message: 'the definition names 21 distinct connections; a stream may use at most 20' }],
    });
    // 20 pass the cap and reach the transaction (22 items), which refuses the 19 missing ones by name.
    const twenty = await call('POST', '/v1/streams', { key, body: { name: unique('fan'), definition: fanOut(19) } });
    expect(twenty.status, twenty.text).toBe(400);
    expect(twenty.body.error.details).toEqual(Array.from({ length: 19 }, (_, i) => missing(`conn_missing_${i}`, i + 1)));
    expect(await connectionItem(own)).not.toHaveProperty('claims');
  });

  it('a stream claims its connections: delete 409 naming it; a PUT to another connection moves the claim; a stream delete releases it', async () => {
    const { key } = await newTenant();
    const [a, b] = [(await call('POST', '/v1/connections', { key, body: pgBody() })).body.id, (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id];
    const target = (await call('POST', '/v1/connections', { key, body: myBody() })).body.id;
    const name = unique('copy');
    const stream = (await call('POST', '/v1/streams', { key, body: { name, definition: copyDefinition(a, target) } })).body;
    expect(await claimsOf(a)).toEqual({ usedBy: [stream.id], claims: 1 });
    expect(await claimsOf(target)).toEqual({ usedBy: [stream.id], claims: 1 });
    const refused = await call('DELETE', `/v1/connections/${a}`, { key });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(`connection ${a} is used by stream ${stream.id}; change or delete it first`);

    const moved = await call('PUT', `/v1/streams/${stream.id}`, { key, body: { name, definition: copyDefinition(b, target) } });
    expect(moved.status, moved.text).toBe(200);
    // a is released (its counter never goes down: a delete that read it before still notices); target is claimed again, harmlessly.
    expect(await claimsOf(a)).toEqual({ usedBy: [], claims: 1 });
    expect(await claimsOf(b)).toEqual({ usedBy: [stream.id], claims: 1 });
    expect(await claimsOf(target)).toEqual({ usedBy: [stream.id], claims: 2 });
    expect((await call('DELETE', `/v1/connections/${a}`, { key })).status).toBe(204);
    expect((await call('GET', `/v1/connections/${a}`, { key })).status).toBe(404);
    const inUse = await call('DELETE', `/v1/connections/${b}`, { key });
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.message).toContain(`used by stream ${stream.id}`);
    expect((await call('GET', `/v1/connections/${b}`, { key })).status).toBe(200);

    // A write that does not touch the definition claims nothing.
    expect((await call('PATCH', `/v1/streams/${stream.id}`, { key, body: { description: 'renamed nothing' } })).status).toBe(200);
    expect(await claimsOf(target)).toEqual({ usedBy: [stream.id], claims: 2 });

    expect((await call('DELETE', `/v1/streams/${stream.id}`, { key })).status).toBe(204);
    expect(await claimsOf(b)).toEqual({ usedBy: [], claims: 1 });
    expect(await claimsOf(target)).toEqual({ usedBy: [], claims: 2 });
    expect((await call('DELETE', `/v1/connections/${b}`, { key })).status).toBe(204);
    expect((await call('DELETE', `/v1/connections/${target}`, { key })).status).toBe(204);
  });

  it('a PATCH naming a connection claims it: its type then cannot change (409), and the write of a type change or delete that read it before is refused', async () => {
    const { key } = await newTenant();
    const source = (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id;
    const target = (await call('POST', '/v1/connections', { key, body: myBody() })).body.id;
    const collector = { nodes: [{ id: 'in', type: 'http-collector', config: {} }, { id: 'rows', type: 'dataset', config: {} }], edges: [{ from: 'in', to: 'rows' }] };
    const stream = (await call('POST', '/v1/streams', { key, body: { name: unique('grows'), definition: collector } })).body;
    expect(await connectionItem(source)).not.toHaveProperty('claims');

    // The interleaving HTTP cannot force: read the connection (as the PUT and the delete do), a stream claims it, then their conditional writes.
    Object.assign(process.env, inject('runtimeEnv'));
    const { getConnectionRecord, removeConnection, replaceConnection } = await import('#shared/store/connections.ts');
    const read = (await getConnectionRecord(source))!;
    const patched = await call('PATCH', `/v1/streams/${stream.id}`, { key, body: { definition: copyDefinition(source, target) } });
    expect(patched.status, patched.text).toBe(200);
    expect(await claimsOf(source)).toEqual({ usedBy: [stream.id], claims: 1 });
    expect(await replaceConnection({ ...read, type: 'mysql', revision: read.revision + 1 }, read.revision, { claims: read.claims })).toBe(false);
    expect(await removeConnection(source, read.revision, read.claims)).toBe(false);

    const retype = await call('PUT', `/v1/connections/${source}`, { key, body: myBody() });
    expect(retype.status, retype.text).toBe(409);
    expect(retype.body.error.message).toBe(`connection ${source} is used by stream ${stream.id}; its type cannot change from postgresql to mysql while it uses it`);
    expect((await call('GET', `/v1/connections/${source}`, { key })).body).toMatchObject({ type: 'postgresql', revision: 1 });
  });

  it("a write's late release is skipped once the stream was written again (that write may have claimed the connection anew)", async () => {
    const { key } = await newTenant();
    const [a, b] = [(await call('POST', '/v1/connections', { key, body: pgBody() })).body.id, (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id];
    const name = unique('back');
    const stream = (await call('POST', '/v1/streams', { key, body: { name, definition: copyDefinition(a, a) } })).body;
    expect((await call('PUT', `/v1/streams/${stream.id}`, { key, body: { name, definition: copyDefinition(b, b) } })).body.revision).toBe(2);
    expect((await call('PUT', `/v1/streams/${stream.id}`, { key, body: { name, definition: copyDefinition(a, a) } })).body.revision).toBe(3);
    expect(await claimsOf(a)).toEqual({ usedBy: [stream.id], claims: 2 });
    // The interleaving HTTP cannot force: revision 2's release of a arriving after revision 3 claimed it again.
    Object.assign(process.env, inject('runtimeEnv'));
    const { releaseConnection } = await import('#shared/store/connections.ts');
    await releaseConnection(a, stream.id, { revision: 2, deployment: null });
    expect(await claimsOf(a)).toEqual({ usedBy: [stream.id], claims: 2 });
    expect((await call('DELETE', `/v1/connections/${a}`, { key })).status).toBe(409);
    // At the stream's current revision the same release goes through.
    await releaseConnection(a, stream.id, { revision: 3, deployment: null });
    expect(await claimsOf(a)).toEqual({ usedBy: [], claims: 2 });
  });

  it('stream writes and deletes of their connection racing: never both succeed, never a stream naming a connection that is gone', async () => {
    const { key } = await newTenant();
    const target = (await call('POST', '/v1/connections', { key, body: myBody() })).body.id;
    const collector = { nodes: [{ id: 'in', type: 'http-collector', config: {} }, { id: 'rows', type: 'dataset', config: {} }], edges: [{ from: 'in', to: 'rows' }] };
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const conn = (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id as string;
        const name = unique('race');
        // Half create a stream naming the connection, half PUT an existing stream to name it.
        const existing = i % 2 === 1 ? (await call('POST', '/v1/streams', { key, body: { name, definition: collector } })).body : undefined;
        const body = { name, definition: copyDefinition(conn, target) };
        const [written, deleted] = await Promise.all([
          existing ? call('PUT', `/v1/streams/${existing.id}`, { key, body }) : call('POST', '/v1/streams', { key, body }),
          call('DELETE', `/v1/connections/${conn}`, { key }),
        ]);
        return { conn, name, written, deleted, existing };
      }),
    );
    for (const { conn, name, written, deleted, existing } of outcomes) {
      const won = existing ? 200 : 201;
      expect([written.status, deleted.status], `${written.text} / ${deleted.text}`).toSatisfy(
        ([w, d]: number[]) => (w === won && d === 409) || (w === 400 && d === 204),
      );
      const connection = (await call('GET', `/v1/connections/${conn}`, { key })).status;
      if (written.status === won) {
        expect(connection).toBe(200);
        const stream = await call('GET', `/v1/streams/${written.body.id}`, { key });
        expect(stream.body.definition.nodes[0]).toMatchObject({ type: 'table-source', config: { connectionId: conn } });
      } else {
        expect(written.body.error.details).toEqual([missing(conn, 0)]);
        expect(connection).toBe(404);
        if (existing) expect((await call('GET', `/v1/streams/${existing.id}`, { key })).body).toMatchObject({ revision: 1, definition: { nodes: [{ type: 'http-collector' }, { type: 'dataset' }] } });
        else expect((await call('GET', `/v1/streams?name=${name}`, { key })).body.items).toEqual([]);
      }
    }
  });

  it('a node on a connection of a type it cannot use is 400 naming the node and both types, on create, PUT, PATCH and import; nothing is written or claimed', async () => {
    const { key } = await newTenant();
    const pg = (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id;
    const s3 = (await call('POST', '/v1/connections', { key, body: s3Body() })).body.id;

    const name = unique('typed');
    for (const [definition, details] of [
      [copyDefinition(s3, pg), [mistyped(s3, 0, TABLE_ON_S3('table-source'))]],
      [copyDefinition(pg, s3), [mistyped(s3, 1, TABLE_ON_S3('table-sink'))]],
      [s3Definition(pg), [mistyped(pg, 0, S3_ON_PG)]],
      // One connection named by an s3-source and a table node suits one of them: the other is told.
      [s3Definition(s3, s3), [mistyped(s3, 1, TABLE_ON_S3('table-sink'))]],
      [s3Definition(pg, pg), [mistyped(pg, 0, S3_ON_PG)]],
      // Every problem is told, whichever kind.
      [copyDefinition(s3, UNKNOWN_CONN), [mistyped(s3, 0, TABLE_ON_S3('table-source')), missing(UNKNOWN_CONN, 1)]],
    ] as const) {
      expectNodeRefusal(await call('POST', '/v1/streams', { key, body: { name, definition } }), details);
    }
    expect((await call('GET', `/v1/streams?name=${name}`, { key })).body.items).toEqual([]);
    await expectUnclaimed(pg, s3);

    // Each node on the type it takes: written, both claimed.
    const stream = await call('POST', '/v1/streams', { key, body: { name, definition: s3Definition(s3, pg) } });
    expect(stream.status, stream.text).toBe(201);
    expect(await claimsOf(s3)).toEqual({ usedBy: [stream.body.id], claims: 1 });
    expect(await claimsOf(pg)).toEqual({ usedBy: [stream.body.id], claims: 1 });

    const put = await call('PUT', `/v1/streams/${stream.body.id}`, { key, body: { name, definition: copyDefinition(s3, pg) } });
    expect(put.status, put.text).toBe(400);
    expect(put.body.error.details).toEqual([mistyped(s3, 0, TABLE_ON_S3('table-source'))]);
    const patch = await call('PATCH', `/v1/streams/${stream.body.id}`, { key, body: { definition: s3Definition(pg, pg) } });
    expect(patch.status, patch.text).toBe(400);
    expect(patch.body.error.details).toEqual([mistyped(pg, 0, S3_ON_PG)]);
    const overwrite = await call('POST', '/v1/streams/import?onConflict=overwrite', { key, body: { format: 'sluice.stream/v1', name, definition: copyDefinition(pg, s3) } });
    expect(overwrite.status, overwrite.text).toBe(400);
    expect(overwrite.body.error.details).toEqual([mistyped(s3, 1, TABLE_ON_S3('table-sink'))]);
    const imported = await call('POST', '/v1/streams/import', { key, body: { format: 'sluice.stream/v1', name: unique('imported'), definition: s3Definition(pg) } });
    expect(imported.status, imported.text).toBe(400);
    expect(imported.body.error.details).toEqual([mistyped(pg, 0, S3_ON_PG)]);

    // A second read: the stream and its claims as they were.
    const kept = await call('GET', `/v1/streams/${stream.body.id}`, { key });
    expect(kept.body).toMatchObject({ revision: 1, definition: s3Definition(s3, pg) });
    expect(await claimsOf(s3)).toEqual({ usedBy: [stream.body.id], claims: 1 });
    expect(await claimsOf(pg)).toEqual({ usedBy: [stream.body.id], claims: 1 });
  });

  it("a deploy claims its version's connections: delete and type change 409 while it is deployed, also once the definition moved on; a redeploy or undeploy releases them", async () => {
    const { key } = await newTenant();
    const [a, b, c] = [
      (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id,
      (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id,
      (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id,
    ];
    const target = (await call('POST', '/v1/connections', { key, body: myBody() })).body.id;
    const name = unique('deployed');
    const stream = (await call('POST', '/v1/streams', { key, body: { name, definition: copyDefinition(a, target) } })).body;
    const put = (definition: unknown) => call('PUT', `/v1/streams/${stream.id}`, { key, body: { name, definition } });
    const tag = (version: string) => call('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: version } });
    expect((await tag('v1')).status).toBe(201);
    expect((await put(copyDefinition(c, target))).status).toBe(200);
    expect((await tag('v3')).status).toBe(201);
    expect((await put(copyDefinition(b, target))).status).toBe(200);
    // The definition moved on: a and c are released, as before deploys claimed.
    expect(await claimsOf(a)).toEqual({ usedBy: [], claims: 1 });

    const deployed = await call('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'v1' } });
    expect(deployed.status, deployed.text).toBe(200);
    expect(await claimsOf(a)).toEqual({ usedBy: [stream.id], claims: 2 });
    expect((await streamItem(stream.id))?.deployedConnections).toEqual([a, target]);
    // Internal: never answered.
    expect((await call('GET', `/v1/streams/${stream.id}`, { key })).body).not.toHaveProperty('deployedConnections');
    expect(deployed.body).not.toHaveProperty('deployedConnections');

    const deleteRefused = await call('DELETE', `/v1/connections/${a}`, { key });
    expect(deleteRefused.status).toBe(409);
    expect(deleteRefused.body.error.message).toBe(`connection ${a} is used by stream ${stream.id} (its deployed version v1); change or delete it first`);
    const retypeRefused = await call('PUT', `/v1/connections/${a}`, { key, body: myBody() });
    expect(retypeRefused.status).toBe(409);
    expect(retypeRefused.body.error.message).toBe(`connection ${a} is used by stream ${stream.id} (its deployed version v1); its type cannot change from postgresql to mysql while it uses it`);
    expect((await call('GET', `/v1/connections/${a}`, { key })).body).toMatchObject({ type: 'postgresql', revision: 1 });

    // A definition write that drops a keeps its claim: the deployed version still uses it.
    expect((await put(copyDefinition(a, target))).status).toBe(200);
    expect((await put(copyDefinition(b, target))).status).toBe(200);
    expect(await claimsOf(a)).toEqual({ usedBy: [stream.id], claims: 3 });
    expect((await call('DELETE', `/v1/connections/${a}`, { key })).status).toBe(409);

    // A redeploy of a version naming c moves the claim: a is released and deletable, c is not.
    expect((await call('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'v3' } })).status).toBe(200);
    expect(await claimsOf(a)).toEqual({ usedBy: [], claims: 3 });
    expect(await claimsOf(c)).toEqual({ usedBy: [stream.id], claims: 2 });
    expect((await call('DELETE', `/v1/connections/${a}`, { key })).status).toBe(204);
    expect((await call('DELETE', `/v1/connections/${c}`, { key })).body.error.message).toContain(`stream ${stream.id} (its deployed version v3)`);

    // The version naming a is refused now, and the deployment stays.
    const gone = await call('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'v1' } });
    expect(gone.status, gone.text).toBe(400);
    expect(gone.body.error).toMatchObject({ message: `version v1 cannot be deployed: definition.nodes[0].config.connectionId: connection ${a} does not exist in this solution`, details: [missing(a, 0)] });
    expect((await call('GET', `/v1/streams/${stream.id}`, { key })).body.deployment).toMatchObject({ phase: 'deployed', version: 'v3' });

    // Undeploy releases what only the deployed version used; the definition's connections stay claimed.
    expect((await call('POST', `/v1/streams/${stream.id}/undeploy`, { key })).status).toBe(200);
    expect(await claimsOf(c)).toEqual({ usedBy: [], claims: 2 });
    expect(await claimsOf(target)).toEqual({ usedBy: [stream.id], claims: 7 });
    expect((await call('DELETE', `/v1/connections/${c}`, { key })).status).toBe(204);
    expect((await call('DELETE', `/v1/connections/${target}`, { key })).body.error.message).toBe(`connection ${target} is used by stream ${stream.id}; change or delete it first`);

    // A stream delete releases its deployed version's connections too.
    const d = (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id;
    expect((await put(copyDefinition(d, target))).status).toBe(200);
    expect((await tag('v4')).status).toBe(201);
    expect((await put(copyDefinition(b, target))).status).toBe(200);
    expect((await call('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'v4' } })).status).toBe(200);
    expect(await claimsOf(d)).toEqual({ usedBy: [stream.id], claims: 2 });
    expect((await call('DELETE', `/v1/streams/${stream.id}`, { key })).status).toBe(204);
    expect(await claimsOf(d)).toEqual({ usedBy: [], claims: 2 });
    for (const id of [b, d, target]) expect((await call('DELETE', `/v1/connections/${id}`, { key })).status).toBe(204);
  });

  it('deploy refuses a version naming a connection of a type its node cannot use (frozen before writes checked it), with the node and both types', async () => {
    const { key } = await newTenant();
    const pg = (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id;
    const s3 = (await call('POST', '/v1/connections', { key, body: s3Body() })).body.id;
    const stream = (await call('POST', '/v1/streams', { key, body: { name: unique('legacy'), definition: copyDefinition(pg, pg) } })).body;
    // What such a tag looks like: the stream's definition with an s3 connection on its table-source.
    const definition = structuredClone(stream.definition);
    definition.nodes[0].config.connectionId = s3;
    await seedTag(stream.id, 'legacy', definition);
    const refused = await call('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'legacy' } });
    expect(refused.status, refused.text).toBe(400);
    const detail = mistyped(s3, 0, TABLE_ON_S3('table-source'));
    expect(refused.body.error).toMatchObject({ message: `version legacy cannot be deployed: ${detail.path}: ${detail.message}`, details: [detail] });
    expect((await call('GET', `/v1/streams/${stream.id}`, { key })).body.deployment).toBeNull();
    expect(await connectionItem(s3)).not.toHaveProperty('claims');
    expect((await call('DELETE', `/v1/connections/${s3}`, { key })).status).toBe(204);
  });

  it('deploy refuses a version naming more than 20 connections (frozen before writes had the cap), before claiming any', async () => {
    const { key } = await newTenant();
    const pg = (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id;
    const stream = (await call('POST', '/v1/streams', { key, body: { name: unique('wide'), definition: copyDefinition(pg, pg) } })).body;
    const ids = [pg, ...Array.from({ length: 20 }, (_, i) => `conn_01ARZ3NDEKTSV4RRFFQ69G5F${String(i).padStart(2, '0')}`)];
    const definition = structuredClone(stream.definition);
    definition.nodes = ids.map((connectionId, i) => ({ id: `src${i}`, type: 'table-source', config: { connectionId, tables: [{ name: 'users' }] } }));
    definition.edges = [];
    await seedTag(stream.id, 'wide', definition);
    const refused = await call('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'wide' } });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.error.details).toEqual([{ path: 'definition.nodes', message: 'the definition names 21 distinct connections; a stream may use at most 20' }]);
    expect((await call('GET', `/v1/streams/${stream.id}`, { key })).body.deployment).toBeNull();
    expect(await claimsOf(pg)).toEqual({ usedBy: [stream.id], claims: 1 });
  });

  it('deploys and deletes of the connection the deployed version names racing: never both succeed', async () => {
    const { key } = await newTenant();
    const [b, target] = [(await call('POST', '/v1/connections', { key, body: pgBody() })).body.id, (await call('POST', '/v1/connections', { key, body: myBody() })).body.id];
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const a = (await call('POST', '/v1/connections', { key, body: pgBody() })).body.id as string;
        const name = unique('race');
        const stream = (await call('POST', '/v1/streams', { key, body: { name, definition: copyDefinition(a, target) } })).body;
        expect((await call('POST', `/v1/streams/${stream.id}/versions`, { key, body: { tag: 'v1' } })).status).toBe(201);
        // The definition moves on: only the tag names a.
        expect((await call('PUT', `/v1/streams/${stream.id}`, { key, body: { name, definition: copyDefinition(b, target) } })).status).toBe(200);
        const [deployed, deleted] = await Promise.all([
          call('POST', `/v1/streams/${stream.id}/deploy`, { key, body: { version: 'v1' } }),
          call('DELETE', `/v1/connections/${a}`, { key }),
        ]);
        return { a, stream, deployed, deleted };
      }),
    );
    for (const { a, stream, deployed, deleted } of outcomes) {
      expect([deployed.status, deleted.status], `${deployed.text} / ${deleted.text}`).toSatisfy(
        ([p, d]: number[]) => (p === 200 && d === 409) || (p === 400 && d === 204),
      );
      const connection = (await call('GET', `/v1/connections/${a}`, { key })).status;
      const { deployment } = (await call('GET', `/v1/streams/${stream.id}`, { key })).body;
      if (deployed.status === 200) {
        expect(connection).toBe(200);
        expect(deployment).toMatchObject({ phase: 'deployed', version: 'v1' });
        expect(deleted.body.error.message).toBe(`connection ${a} is used by stream ${stream.id} (its deployed version v1); change or delete it first`);
      } else {
        expect(deployed.body.error.details).toEqual([missing(a, 0)]);
        expect(connection).toBe(404);
        expect(deployment).toBeNull();
      }
    }
  });

  it('never returns a password in any response of this file', () => {
    expect(seen.length).toBeGreaterThan(20);
    for (const password of [dbs().postgresql.password, dbs().mysql.password, 'not-the-Password-42']) {
      for (const res of seen) expect(res.text).not.toContain(password);
    }
  });
});
