import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { connectionKey } from './connections.ts';
import { streamKey } from './streams.ts';

/** Look-ups of what a definition refers to (streams, connections): deploy-time checks, and what a refused connection claim ran into. */

export type Reference = { kind: 'stream' | 'connection'; id: string };

/** What a look-up finds of a referenced item: its solution, and a connection's type. */
export interface ReferencedItem {
  solutionId: string;
  connectionType?: string;
}

/** Each referenced item that exists (key `kind:id`): its solution and, for a connection, its type. */
export async function referencedItems(references: Reference[]): Promise<Map<string, ReferencedItem>> {
  const found = new Map<string, ReferencedItem>();
  const unique = [...new Map(references.map((ref) => [`${ref.kind}:${ref.id}`, ref])).values()];
  for (let i = 0; i < unique.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = unique
      .slice(i, i + 100)
      .map((ref) => (ref.kind === 'stream' ? streamKey(ref.id) : connectionKey(ref.id)));
    for (let round = 0; keys && keys.length > 0 && round < 8; round++) {
      const result = await ddb.send(
        new BatchGetCommand({
          RequestItems: { [tableName()]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'PK, SK, #sol, connectionType', ExpressionAttributeNames: { '#sol': 'solutionId' } } },
        }),
      );
      for (const item of result.Responses?.[tableName()] ?? []) {
        const kind = item.SK === 'STREAM' ? 'stream' : 'connection';
        found.set(`${kind}:${String(item.PK).replace(/^(STM|CONN)#/, '')}`, { solutionId: String(item.solutionId), connectionType: item.connectionType });
      }
      keys = result.UnprocessedKeys?.[tableName()]?.Keys as Record<string, unknown>[] | undefined;
    }
  }
  return found;
}
