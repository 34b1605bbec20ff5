import type { StreamRecord } from '#shared/store/streams.ts';
import { invalid } from '#shared/model/errors.ts';

/** The native stream object of API.md. */
export function streamJson(stream: StreamRecord, baseUrl: string) {
  return {
    id: stream.id,
    solutionId: stream.solutionId,
    namespace: stream.namespace,
    name: stream.name,
    description: stream.description,
    definition: stream.definition,
    revision: stream.revision,
    createdAt: stream.createdAt,
    updatedAt: stream.updatedAt,
    deployment: stream.deployment,
    activeRun: stream.activeRun,
    httpEndpoints: stream.definition.nodes
      .filter((node) => node.type === 'http-collector')
      .map((node) => ({ nodeId: node.id, method: 'POST', url: `${baseUrl}/v1/streams/${stream.id}/packets` })),
  };
}

/** `?fields=name,definition.nodes`: keep only those dotted paths. */
export function selectFields(object: Record<string, unknown>, fields: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of fields.split(',').map((f) => f.trim()).filter(Boolean)) {
    const parts = path.split('.');
    let source: unknown = object;
    for (const part of parts) {
      if (source === null || typeof source !== 'object' || !(part in (source as object))) {
        throw invalid(`unknown field ${path}`, [{ path: 'fields', message: `no field ${path}` }]);
      }
      source = (source as Record<string, unknown>)[part];
    }
    let target = out;
    parts.slice(0, -1).forEach((part) => {
      target[part] ??= {};
      target = target[part] as Record<string, unknown>;
    });
    target[parts[parts.length - 1]] = source;
  }
  return out;
}
