import type { DatasetPointer } from '#shared/store/datasets.ts';
import type { ExecutionRecord } from '#shared/store/executions.ts';
import type { StreamRecord } from '#shared/store/streams.ts';
import { domoFaceOf } from '#shared/services/domo-streams.ts';

/** Domo shows times as `2015-03-31T16:56:57` (UTC, no zone). */
export const domoTime = (iso: string | undefined | null) => (iso ? iso.slice(0, 19) : null);

/** A Domo execution: both `id` (public API) and `executionId` (internal scripts). */
export function domoExecutionJson(execution: ExecutionRecord, domoStreamId: number) {
  return {
    id: execution.number,
    executionId: execution.number,
    streamId: domoStreamId,
    currentState: execution.state,
    updateMethod: execution.updateMethod,
    ...(execution.keyColumnNames ? { keyColumnNames: execution.keyColumnNames } : {}),
    startedAt: domoTime(execution.createdAt),
    endedAt: domoTime(execution.endedAt),
    createdAt: domoTime(execution.createdAt),
    modifiedAt: domoTime(execution.updatedAt),
    dataVersion: execution.version ?? null,
    rows: execution.rows ?? null,
    bytes: execution.bytes ?? null,
    errors: execution.error ? [{ message: execution.error }] : [],
    sluiceExecutionId: execution.id,
  };
}

/** The seed's retrieval shape; `dataSource` gains row and byte counts when the dataset is known. */
export function domoStreamJson(stream: StreamRecord, executions: ExecutionRecord[] = [], dataset?: DatasetPointer) {
  const face = domoFaceOf(stream)!;
  return {
    id: face.id,
    valid: true,
    transport: face.transport,
    configuration: face.configuration ?? {},
    schedule: face.schedule ?? null,
    account: face.account ?? null,
    dataProvider: face.dataProvider ?? { key: String(face.transport.type).toLowerCase(), name: String(face.transport.type) },
    dataSource: {
      ...face.dataSource,
      ...(dataset ? { rowCount: dataset.rows, size: dataset.bytes, dataVersion: dataset.version, lastUpdated: domoTime(dataset.updatedAt) } : {}),
    },
    schemaDefinition: face.schemaDefinition ?? null,
    updateMethod: face.updateMethod ?? 'APPEND',
    ...(face.keyColumnNames ? { keyColumnNames: face.keyColumnNames } : {}),
    playbookRegistryId: null,
    executions: executions.map((execution) => domoExecutionJson(execution, face.id)),
    changes: [],
    createdAt: domoTime(face.createdAt),
    createdBy: face.createdBy,
    modifiedAt: domoTime(face.modifiedAt),
    modifiedBy: face.modifiedBy,
    sluiceStreamId: stream.id,
  };
}
