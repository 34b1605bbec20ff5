import type { ExecutionRecord, PartRecord } from '#shared/store/executions.ts';
import type { DatasetPointer } from '#shared/store/datasets.ts';

/** The native execution object (API.md "Executions and datasets"). */
export function executionJson(execution: ExecutionRecord) {
  return {
    id: execution.id,
    number: execution.number,
    streamId: execution.streamId,
    state: execution.state,
    updateMethod: execution.updateMethod,
    keyColumnNames: execution.keyColumnNames ?? null,
    createdAt: execution.createdAt,
    updatedAt: execution.updatedAt,
    endedAt: execution.endedAt ?? null,
    version: execution.version ?? null,
    rows: execution.rows ?? null,
    bytes: execution.bytes ?? null,
    error: execution.error ?? null,
  };
}

export const partJson = (part: PartRecord) => ({
  partId: part.partId,
  source: part.source,
  bytes: part.bytes ?? null,
  rows: part.rows ?? null,
  uploadedAt: part.uploadedAt,
});

export const datasetJson = (pointer: DatasetPointer) => ({
  version: pointer.version,
  rows: pointer.rows,
  bytes: pointer.bytes,
  schema: pointer.schema,
  updatedAt: pointer.updatedAt,
  updateMethod: pointer.updateMethod,
});
