import type { NodeContext, SinkWriter } from '../types.ts';

/**
 * The packet-sink: each bundle's records become ONE packet (NDJSON) appended
 * to another stream's packet log. The append carries the idempotency token
 * `{runId}:{bundle}`, so a retried bundle returns the first append instead of
 * appending again.
 */
export interface PacketAppender {
  appendPackets(
    streamId: string,
    packets: { bytes: Buffer; contentType?: string }[],
    options: { source: { type: 'run'; id: string }; idempotencyToken?: string },
  ): Promise<unknown[]>;
}

export function packetSink(context: NodeContext, appender: PacketAppender): SinkWriter {
  const target = String(context.node.config.streamId);
  return {
    async write(records, bundle) {
      if (records.length === 0) return { bytes: 0 };
      const bytes = Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      await appender.appendPackets(target, [{ bytes, contentType: 'application/x-ndjson' }], {
        source: { type: 'run', id: bundle.runId },
        idempotencyToken: `${bundle.runId}:${bundle.bundle}`,
      });
      return { bytes: bytes.length };
    },
  };
}
