import { batchGetItems } from './batch.ts';
import { connectionKey } from './connections.ts';
import { streamKey } from './streams.ts';
import type { FoundConnection } from '../model/definition.ts';

/** Look-ups of what a definition refers to (streams, connections): deploy-time checks, and what a refused connection claim ran into. */

export type Reference = { kind: 'stream' | 'connection'; id: string };

/** Each referenced item that exists (key `kind:id`): its solution and, for a connection, its type. */
export async function referencedItems(references: Reference[]): Promise<Map<string, FoundConnection>> {
  const unique = [...new Map(references.map((ref) => [`${ref.kind}:${ref.id}`, ref])).values()];
  const items = await batchGetItems(
    unique.map((ref) => (ref.kind === 'stream' ? streamKey(ref.id) : connectionKey(ref.id))),
    { expression: 'PK, SK, #sol, connectionType', names: { '#sol': 'solutionId' } },
  );
  return new Map(
    items.map((item) => [
      `${item.SK === 'STREAM' ? 'stream' : 'connection'}:${String(item.PK).replace(/^(STM|CONN)#/, '')}`,
      { solutionId: String(item.solutionId), connectionType: item.connectionType },
    ]),
  );
}
