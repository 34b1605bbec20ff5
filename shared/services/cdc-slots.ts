import type { CdcSource } from '../model/definition.ts';
import { logger } from '../http/logger.ts';
import { connectionParamsById } from './connections.ts';

/**
 * Drops the PostgreSQL replication slots of a deleted stream's CDC sources
 * (the purge's last step) so the server stops keeping WAL for them. Best
 * effort: a source may be unreachable or gone, and the slot may already be
 * dropped; a failure is logged with the slot's name for an operator.
 */
export async function dropCdcSlots(solutionId: string, streamId: string, sources: CdcSource[]): Promise<void> {
  if (sources.length === 0) return;
  // The database drivers load only here, for streams that had CDC sources.
  const { createPgCdcSource, slotName } = await import('../engine/nodes/pg-cdc.ts');
  for (const { nodeId, connectionId } of sources) {
    const slot = slotName(streamId, nodeId);
    try {
      const params = await connectionParamsById(solutionId, connectionId);
      if (params.type !== 'postgresql') continue;
      const source = createPgCdcSource(params, { slot, tables: [] });
      try {
        await source.dropSlot();
      } finally {
        await source.close?.();
      }
    } catch (error) {
      await logger.warn('could not drop the replication slot of a deleted stream', { streamId, slot, reason: (error as Error).message });
    }
  }
}
