import { createHash } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { conflict, invalid } from '../model/errors.ts';
import { ddb, tableName } from '../store/client.ts';
import { isConditionFailure } from '../store/errors.ts';
import type { ApiRequest } from './handler.ts';
import type { Reply } from './reply.ts';

const WINDOW_SECONDS = 24 * 60 * 60;

const sha256 = (value: string | Buffer) => createHash('sha256').update(value).digest('hex');

/**
 * Idempotency-Key on creating POSTs: the first request with a key claims it with
 * a conditional put; repeats with the same body get the stored answer, repeats
 * with another body get 409. A failed first attempt releases the key.
 */
export async function withIdempotency(request: ApiRequest, run: () => Promise<Reply>): Promise<Reply> {
  const idempotencyKey = request.headers['idempotency-key'];
  if (idempotencyKey === undefined) return run();
  if (idempotencyKey.length === 0 || idempotencyKey.length > 255) {
    throw invalid('Idempotency-Key must be 1 to 255 characters', [{ path: 'Idempotency-Key', message: 'bad length' }]);
  }
  const scope = `${request.principal.keyId}|${request.event.routeKey}|${request.event.rawPath}|${idempotencyKey}`;
  const key = { PK: `IDEM#${request.principal.solutionId}#${sha256(scope)}`, SK: 'IDEM' };
  const bodyHash = sha256(request.rawBody());
  const now = Math.floor(Date.now() / 1000);
  try {
    await ddb.send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...key, type: 'idempotency', state: 'in_progress', bodyHash, expiresAt: now + WINDOW_SECONDS },
        ConditionExpression: 'attribute_not_exists(PK) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': now },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const existing = (await ddb.send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }))).Item;
    if (!existing) throw conflict('a request with this Idempotency-Key is being processed; retry shortly');
    if (existing.bodyHash !== bodyHash) throw conflict('this Idempotency-Key was used with a different body');
    if (existing.state !== 'completed') throw conflict('a request with this Idempotency-Key is still in progress');
    return { ...(existing.reply as Reply), headers: { ...(existing.reply as Reply).headers, 'idempotent-replayed': 'true' } };
  }
  let reply: Reply;
  try {
    reply = await run();
  } catch (error) {
    await ddb.send(new DeleteCommand({ TableName: tableName(), Key: key }));
    throw error;
  }
  await ddb.send(
    new PutCommand({
      TableName: tableName(),
      Item: { ...key, type: 'idempotency', state: 'completed', bodyHash, reply, expiresAt: now + WINDOW_SECONDS },
    }),
  );
  return reply;
}
