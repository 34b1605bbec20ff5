import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { connectionKey } from './connections.ts';
import { streamKey } from './streams.ts';

/** Look-ups of what a definition refers to (streams, connections), for deploy-time checks. */

export type Reference = { kind: 'stream' | 'connection'; id: string };

/** The owning solution of each referenced item that exists (key `kind:id`). */
export async function referenceOwners(references: Reference[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  const unique = [...new Map(references.map((ref) => [`${ref.kind}:${ref.id}`, ref])).values()];
  for (let i = 0; i < unique.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = unique
      .slice(i, i + 100)
      .map((ref) => (ref.kind === 'stream' ? streamKey(ref.id) : connectionKey(ref.id)));
    for (let round = 0; keys && keys.length > 0 && round < 8; round++) {
      const result = await ddb.send(
        new BatchGetCommand({
          RequestItems: { [tableName()]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'PK, SK, #sol', ExpressionAttributeNames: { '#sol': 'solutionId' } } },
        }),
      );
      for (const item of result.Responses?.[tableName()] ?? []) {
        const kind = item.SK === 'STREAM' ? 'stream' : 'connection';
        owners.set(`${kind}:${String(item.PK).replace(/^(STM|CONN)#/, '')}`, String(item.solutionId));
      }
      keys = result.UnprocessedKeys?.[tableName()]?.Keys as Record<string, unknown>[] | undefined;
    }
  }
  return owners;
}
