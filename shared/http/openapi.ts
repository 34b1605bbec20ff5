import * as z from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { routes, routeKey, type Route } from '#functions/routes.ts';
import { streamInput } from '../services/streams.ts';
import { groupInput } from '../services/groups.ts';
import { connectionInput } from '../services/connections.ts';
import { configInput } from '../services/dbconvert.ts';
import { unsavedConnection } from '../services/connection-test.ts';
import { CONNECTION_TYPES } from '../model/definition.ts';
import { PACKET_ROUTE_DOCS } from './openapi-packets.ts';

/**
 * The OpenAPI 3.1 document of every face, built from the route table (so no
 * route can be missing) plus the request and response schemas registered below.
 */
const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

const streamSchema = z
  .object({
    id: z.string(),
    solutionId: z.string(),
    namespace: z.string(),
    name: z.string(),
    description: z.string(),
    definition: z.record(z.string(), z.unknown()),
    revision: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    deployment: z.object({ phase: z.string(), version: z.string(), deployedAt: z.string() }).nullable(),
    activeRun: z.object({ id: z.string(), status: z.string() }).nullable(),
    httpEndpoints: z.array(z.object({ nodeId: z.string(), method: z.string(), url: z.string() })),
  })
  .meta({ id: 'Stream' });

// --- executions, datasets, Domo face (issue 5) ---
const updateMethodSchema = z.enum(['APPEND', 'REPLACE', 'UPSERT']);
const executionBody = z.object({ updateMethod: updateMethodSchema.optional(), keyColumnNames: z.array(z.string()).optional() }).meta({ id: 'ExecutionInput' });
const executionSchema = z
  .object({
    id: z.string(),
    number: z.number().int(),
    streamId: z.string(),
    state: z.enum(['ACTIVE', 'SUCCESS', 'ABORTED', 'FAILED']),
    updateMethod: updateMethodSchema,
    keyColumnNames: z.array(z.string()).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    endedAt: z.string().nullable(),
    version: z.number().int().nullable(),
    rows: z.number().int().nullable(),
    bytes: z.number().int().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'Execution' });
const partSchema = z.object({ partId: z.number().int(), source: z.enum(['inline', 'presigned']), bytes: z.number().int().nullable(), rows: z.number().int().nullable(), uploadedAt: z.string() });
const datasetSchemaBody = z.object({ columns: z.array(z.object({ name: z.string(), type: z.string() })) });
const datasetSchema = z
  .object({ version: z.number().int(), rows: z.number().int(), bytes: z.number().int(), schema: datasetSchemaBody.nullable(), updatedAt: z.string().nullable(), updateMethod: updateMethodSchema.nullable() })
  .meta({ id: 'Dataset' });
const domoSchemaBody = z.object({ columns: z.array(z.object({ name: z.string(), type: z.string() })) });
const domoScheduleBody = z.object({ cron: z.string().optional().describe('Quartz cron, 6 or 7 fields'), expression: z.string().optional().describe('ISO 8601 repeating interval'), start: z.string().optional(), end: z.string().optional() });
const domoStreamBody = z
  .object({
    transport: z.object({ type: z.string() }).passthrough(),
    dataSource: z.object({ name: z.string(), description: z.string().optional() }).passthrough(),
    account: z.record(z.string(), z.unknown()).optional(),
    configuration: z.record(z.string(), z.unknown()).optional(),
    schedule: domoScheduleBody.nullable().optional(),
    dataProvider: z.record(z.string(), z.unknown()).optional(),
    schemaDefinition: domoSchemaBody.optional(),
    updateMethod: updateMethodSchema.optional(),
    keyColumnNames: z.array(z.string()).optional(),
  })
  .meta({ id: 'DomoStreamInput' });
const domoExecutionSchema = z
  .object({
    id: z.number().int(),
    executionId: z.number().int(),
    streamId: z.number().int(),
    currentState: z.enum(['ACTIVE', 'SUCCESS', 'ABORTED', 'FAILED']),
    updateMethod: updateMethodSchema,
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    createdAt: z.string().nullable(),
    modifiedAt: z.string().nullable(),
  })
  .passthrough()
  .meta({ id: 'DomoExecution' });
const domoStreamSchema = z
  .object({
    id: z.number().int(),
    valid: z.boolean(),
    transport: z.record(z.string(), z.unknown()),
    configuration: z.record(z.string(), z.unknown()),
    schedule: domoScheduleBody.nullable(),
    account: z.record(z.string(), z.unknown()).nullable(),
    dataProvider: z.record(z.string(), z.unknown()),
    dataSource: z.record(z.string(), z.unknown()),
    executions: z.array(domoExecutionSchema),
    changes: z.array(z.unknown()),
    createdAt: z.string().nullable(),
    createdBy: z.union([z.number(), z.string()]).nullable(),
    modifiedAt: z.string().nullable(),
    modifiedBy: z.union([z.number(), z.string()]).nullable(),
  })
  .passthrough()
  .meta({ id: 'DomoStream' });

const versionSchema = z
  .object({ version: z.string(), revision: z.number().int(), description: z.string(), createdAt: z.string() })
  .meta({ id: 'StreamVersion' });

const exportSchema = z
  .object({
    format: z.literal('sluice.stream/v1'),
    name: z.string(),
    namespace: z.string(),
    description: z.string(),
    version: z.string(),
    definition: z.record(z.string(), z.unknown()),
    exportedAt: z.string(),
  })
  .meta({ id: 'StreamExport' });

const nodeRef = z.object({ id: z.string(), type: z.string(), name: z.string().optional() });
const edgeRef = z.object({ from: z.string(), to: z.string() });
const versionDiffSchema = z
  .object({
    from: z.object({ version: z.string(), revision: z.number().int() }),
    to: z.object({ version: z.string(), revision: z.number().int() }),
    identical: z.boolean(),
    nodes: z.object({ added: z.array(nodeRef), removed: z.array(nodeRef), changed: z.array(nodeRef.extend({ fields: z.array(z.string()) })) }),
    edges: z.object({ added: z.array(edgeRef), removed: z.array(edgeRef) }),
    nodeGroups: z.object({ added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()) }),
    settings: z.object({ changed: z.array(z.object({ path: z.string(), from: z.unknown(), to: z.unknown() })) }),
    mode: z.object({ changed: z.boolean(), from: z.string(), to: z.string() }),
    schedule: z.object({ changed: z.boolean(), from: z.unknown(), to: z.unknown() }),
  })
  .meta({ id: 'StreamVersionDiff' });

const deploymentSchema = z
  .object({
    streamId: z.string(),
    phase: z.enum(['deployed', 'undeployed']),
    version: z.string(),
    deployedAt: z.string(),
    undeployedAt: z.string().optional(),
  })
  .meta({ id: 'Deployment' });

const listOf = (item: z.ZodType) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

// Runs (docs/runs.md).
const nodeStatsSchema = z.object({
  nodeId: z.string(),
  type: z.string(),
  in: z.number().int(),
  out: z.number().int(),
  failed: z.number().int(),
  bytesIn: z.number().int(),
  bytesOut: z.number().int(),
});
const totalsSchema = z.object({ in: z.number().int(), out: z.number().int(), failed: z.number().int(), bytesIn: z.number().int(), bytesOut: z.number().int() });
const runStatus = z.enum(['running', 'paused', 'stopped', 'finished', 'failed', 'time_limit_reached', 'event_limit_reached']);
const runSchema = z
  .object({
    id: z.string(),
    streamId: z.string(),
    version: z.string().meta({ description: 'the deployed tag, or autosave' }),
    executionId: z.string().meta({ description: 'unique per run; names its Step Functions execution(s)' }),
    trigger: z.enum(['api', 'schedule', 'group']),
    status: runStatus.meta({ description: 'observed by the engine' }),
    desiredStatus: z.enum(['running', 'paused', 'stopped']).meta({ description: 'what callers asked for' }),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    checkpoint: z.object({ bundle: z.number().int(), offsets: z.record(z.string(), z.unknown()), committedAt: z.string().nullable() }),
    stats: z.object({ totals: totalsSchema, uptimeSeconds: z.number(), avgRate: z.number() }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    recentErrors: z.array(z.object({ code: z.string(), nodeId: z.string().optional(), message: z.string(), record: z.string().optional(), at: z.string().optional() })),
    fireTime: z.string().optional(),
  })
  .meta({ id: 'Run' });
const runStatsSchema = z
  .object({
    runId: z.string(),
    streamId: z.string(),
    status: runStatus,
    nodes: z.array(nodeStatsSchema),
    totals: totalsSchema,
    uptimeSeconds: z.number().meta({ description: 'start to end (or now), less the time spent paused' }),
    avgRate: z.number().meta({ description: 'records in per uptime second' }),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
  })
  .meta({ id: 'RunStats' });
const statsItemSchema = z
  .object({
    streamId: z.string(),
    name: z.string(),
    namespace: z.string(),
    status: z.string().meta({ description: 'lowercase: the active or last run status, or idle' }),
    deploymentPhase: z.string(),
    deployedVersion: z.string().nullable(),
    runId: z.string().nullable(),
    uptimeSeconds: z.number(),
    in: z.object({ records: z.number().int(), bytes: z.number().int() }),
    out: z.object({ records: z.number().int(), bytes: z.number().int() }),
    failed: z.number().int(),
    groups: z.array(z.object({ id: z.string(), name: z.string() })),
  })
  .meta({ id: 'StreamStats' });
const offsetsSchema = z
  .object({ streamId: z.string(), offsets: z.record(z.string(), z.record(z.string(), z.unknown())), updatedAt: z.string().nullable(), runId: z.string().nullable() })
  .meta({ id: 'StreamOffsets' });
const aggregateSchema = z
  .object({
    key: z.string(),
    group: z.record(z.string(), z.unknown()),
    values: z.record(z.string(), z.number().nullable()),
    counts: z.record(z.string(), z.number().int()),
    updatedAt: z.string(),
  })
  .meta({ id: 'AggregateItem' });

// --- stream groups (issue 7) ---
const groupRunSchema = z
  .object({
    id: z.string(),
    groupId: z.string(),
    status: z.enum(['preparing', 'running', 'stopped', 'finished', 'failed']),
    trigger: z.enum(['api', 'schedule']),
    fireTime: z.string().optional(),
    streams: z.array(z.string()).meta({ description: 'the group streams when the run started, in order' }),
    position: z.number().int().meta({ description: 'index of the stream running, or next to run' }),
    completedStreams: z.array(z.string()),
    currentRunId: z.string().nullable(),
    streamRuns: z.record(z.string(), z.string()).meta({ description: 'position -> the last run started there' }),
    versions: z.record(z.string(), z.string()).meta({ description: 'position -> the version Prepare pinned' }),
    checkpoint: z.object({ position: z.number().int(), completedStreams: z.array(z.string()), savedAt: z.string() }).nullable(),
    attempt: z.number().int().meta({ description: '1, then +1 per resume (each attempt is one execution)' }),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    error: z
      .object({
        code: z.string(),
        message: z.string(),
        streamId: z.string().optional(),
        runId: z.string().optional(),
        position: z.number().int().optional(),
        details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      })
      .nullable(),
  })
  .meta({ id: 'GroupRun' });

interface RouteDoc {
  summary: string;
  body?: z.core.$ZodType;
  response?: z.core.$ZodType;
}

/** Schemas per route; a route without an entry still appears, with its path, auth and a generic answer. */
// --- connections, DBConvert face (issue 8) ---
const connectionSchema = z
  .object({
    id: z.string(), name: z.string(), type: z.enum(CONNECTION_TYPES), host: z.string(), port: z.number().int(), database: z.string(),
    username: z.string(), ssl: z.unknown(), options: z.record(z.string(), z.unknown()), hasPassword: z.boolean(), revision: z.number().int(),
    createdAt: z.string(), updatedAt: z.string(),
  })
  .meta({ id: 'Connection' });
const dbcConnectionSchema = z
  .object({ id: z.string(), name: z.string(), type: z.string(), host: z.string(), port: z.number().int(), username: z.string(), database: z.string(), created: z.number().int() })
  .meta({ id: 'DbconvertConnection' });
const dbcPingSchema = z.object({ ping: z.enum(['ok', 'failed']), latencyMs: z.number().optional(), error: z.string().optional() });
const dbcTable = z.object({ name: z.string(), query: z.string().optional(), operations: z.array(z.enum(['insert', 'update', 'delete'])).optional() });
/** The configuration as answered: the request's fields (configInput) with their defaults, plus id and created. */
const dbcConfigFields = z
  .object({
    name: z.string(), source: z.string(), target: z.string(), mode: z.enum(['convert', 'load', 'cdc']), tables: z.array(dbcTable),
    dataBundleSize: z.number().int().optional(), reportingIntervals: z.object({ source: z.number().int(), target: z.number().int() }).optional(),
    limits: z.object({ numberOfEvents: z.number().int().optional(), elapsedTime: z.number().int().optional() }).optional(),
    createStructure: z.boolean().optional(), truncateTarget: z.boolean().optional(),
  });
const dbcConfigSchema = dbcConfigFields.extend({ id: z.string(), created: z.number().int() }).meta({ id: 'DbconvertStreamConfig' });
const dbcStartedSchema = z.object({ id: z.string(), configID: z.string(), status: z.string(), started: z.number().int() }).meta({ id: 'DbconvertStream' });
const dbcSideStats = z.object({
  counter: z.number(), failedCounter: z.number(), prevDataSize: z.number(), sumDataSize: z.number(), reportingInterval: z.number(),
  start: z.string(), duration: z.string(), avgRate: z.number(), status: z.string(),
});
const dbcStatsSchema = z
  .object({ streamID: z.string(), configID: z.string(), source: dbcSideStats, target: dbcSideStats, nodes: z.array(z.object({ id: z.string(), type: z.string(), stat: dbcSideStats })) })
  .meta({ id: 'DbconvertStats' });

export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'GET /v1/health': { summary: 'Liveness and version', response: z.object({ status: z.literal('ok'), version: z.string() }) },
  'GET /v1/openapi.json': { summary: 'This document' },
  'POST /v1/solutions': { summary: 'Create a solution (tenant)', body: z.object({ name: z.string() }) },
  'GET /v1/solutions': { summary: 'List solutions' },
  'POST /v1/keys': {
    summary: 'Create an API key; the only answer that shows the key',
    body: z.object({ name: z.string(), scopes: z.array(z.string()), solutionId: z.string().optional() }),
  },
  'GET /v1/keys': { summary: 'List API keys (never their values)' },
  'DELETE /v1/keys/{keyId}': { summary: 'Revoke an API key at once' },
  'POST /v1/streams': { summary: 'Create a stream; claims the connections its definition names (400 naming the node for one not in the solution or of a type the node cannot use, or for more than 20)', body: streamInput(), response: streamSchema },
  'GET /v1/streams': { summary: 'List streams with filters', response: listOf(streamSchema) },
  'GET /v1/streams/{id}': { summary: 'Get a stream (?fields=, ?version=)', response: streamSchema },
  'PUT /v1/streams/{id}': { summary: 'Replace a stream (autosaves; If-Match); claims the connections the definition names (400 naming the node for one not in the solution or of a type the node cannot use), releases those it drops unless the deployed version names them', body: streamInput(), response: streamSchema },
  'PATCH /v1/streams/{id}': { summary: 'Merge-patch a stream (autosaves; If-Match); a patched definition claims its connections as PUT does', response: streamSchema },
  'DELETE /v1/streams/{id}': { summary: 'Delete a stream: 204, taking it out of every stream group that lists it (new group revision) in the same transaction, then releasing its connections; 409 while a run is active or a group it belongs to is running; what it holds is purged in the background' },

  // --- versions, export/import, deploy (issue 3) ---
  'GET /v1/streams/{id}/versions': {
    summary: 'List the autosaved version, then every tag oldest first (paginated)',
    response: z.object({
      items: z.array(
        z.object({
          version: z.string(),
          autosaved: z.literal(true).optional(),
          revision: z.number().int(),
          description: z.string().optional(),
          createdAt: z.string().optional(),
          updatedAt: z.string().optional(),
        }),
      ),
      nextCursor: z.string().nullable(),
    }),
  },
  'POST /v1/streams/{id}/versions': {
    summary: 'Tag the autosaved definition as an immutable version (409: duplicate tag or the 101st tag; Idempotency-Key)',
    body: z.object({ tag: z.string().meta({ description: '1-64 letters, digits, . _ -; not autosave' }), description: z.string().optional() }),
    response: versionSchema,
  },
  'GET /v1/streams/{id}/versions/{a}/diff/{b}': {
    summary: 'What changed from version a to version b (autosave or tags; 404 for an unknown one)',
    response: versionDiffSchema,
  },
  'GET /v1/streams/{id}/export': {
    summary: 'Export one version (?version=, default autosave) as a self-contained document (Content-Disposition: attachment)',
    response: exportSchema,
  },
  'POST /v1/streams/import': {
    summary:
      'Import an export document (+ optional tag). ?onConflict=fail|overwrite|create-new|skip (default fail: 409), ' +
      '?allowNodeDeletions=true|false (default false: an overwrite dropping nodes is 409 naming them), ' +
      '?solutionId= (admin keys only; other keys get 403 for a solution not their own). 201 created/renamed, 200 overwritten/skipped. ' +
      'The written stream claims its connections: 400 naming the node for one not in the target solution or of a type the node cannot use. ' +
      'Idempotency-Key honoured.',
    body: exportSchema.extend({ tag: z.string().optional(), exportedAt: z.string().optional(), version: z.string().optional() }),
    response: z.object({ result: z.enum(['created', 'overwritten', 'renamed', 'skipped']), stream: streamSchema }),
  },
  'POST /v1/streams/{id}/deploy': {
    summary:
      'Deploy a tag (400 for autosave, for an unknown tag, or when a referenced stream or connection does not exist in the solution or a connection is of a type its node cannot use); claims the tag\'s connections in the same write, so they cannot be deleted or retyped while it is deployed; arms its schedule',
    body: z.object({ version: z.string() }),
    response: deploymentSchema,
  },
  'POST /v1/streams/{id}/undeploy': {
    summary: 'Undeploy (409 while a run is active or if never deployed; repeating it answers the same deployment); releases the connections only the deployed version used; disarms the schedule',
    response: deploymentSchema,
  },

  // --- packets, sessions, metadata, MODE face (issue 4) ---
  ...PACKET_ROUTE_DOCS,

  // --- executions, datasets, Domo face (issue 5) ---
  'POST /v1/streams/{id}/executions': {
    summary: 'Open an execution (one ACTIVE per stream, 409 otherwise); Idempotency-Key honoured',
    body: executionBody,
    response: executionSchema,
  },
  'GET /v1/streams/{id}/executions': { summary: 'List executions, newest first', response: listOf(executionSchema) },
  'GET /v1/streams/{id}/executions/{eid}': { summary: 'Get an execution', response: executionSchema },
  'PUT /v1/streams/{id}/executions/{eid}/parts/{partId}': {
    summary: 'Upload a part: headerless CSV (text/csv; gzip via Content-Encoding or application/gzip), at most 5 MiB inline; replaces an earlier upload of that part; 400 names the bad line; 409 unless ACTIVE',
    response: partSchema,
  },
  'POST /v1/streams/{id}/executions/{eid}/parts/{partId}/upload-url': {
    summary: 'A presigned PUT URL (5 minutes) for a large part; the commit verifies what arrived',
    response: z.object({ partId: z.number().int(), url: z.string(), method: z.literal('PUT'), expiresAt: z.string() }),
  },
  'POST /v1/streams/{id}/executions/{eid}/commit': {
    summary: 'Commit: parts in partId order become the next dataset version (APPEND, REPLACE, UPSERT on keyColumnNames), atomically; a data error ends the execution FAILED (400); a concurrent commit gets 409',
    body: executionBody,
    response: executionSchema,
  },
  'POST /v1/streams/{id}/executions/{eid}/abort': { summary: 'Abort: parts are discarded, the dataset is unchanged', response: executionSchema },
  'GET /v1/streams/{id}/dataset': { summary: 'The current dataset version', response: datasetSchema },
  'GET /v1/streams/{id}/dataset/data': { summary: '302 to a presigned GET (5 minutes) of the current version\'s CSV (immutable per version)' },
  'POST /api/data/v1/streams': { summary: 'Domo: create a stream (namespace domo, named after dataSource.name)', body: domoStreamBody, response: domoStreamSchema },
  'GET /api/data/v1/streams/search': {
    summary: 'Domo: search with ?q=field:value, one of account.configurations.value, dataSource.id, dataSource.name (* wildcards), dataSource.owner.id, transport.type; ?limit&offset',
    response: z.array(domoStreamSchema),
  },
  'GET /api/data/v1/streams/{id}': { summary: 'Domo: get a stream with its ten newest executions', response: domoStreamSchema },
  'PUT /api/data/v1/streams/{id}': {
    summary: 'Domo: update dataSource, account, streamConfiguration, schemaDefinition (other fields ignored)',
    body: z.object({ dataSource: z.record(z.string(), z.unknown()).optional(), account: z.record(z.string(), z.unknown()).optional(), streamConfiguration: z.record(z.string(), z.unknown()).optional(), schemaDefinition: domoSchemaBody.optional() }),
    response: domoStreamSchema,
  },
  'DELETE /api/data/v1/streams/{id}': { summary: 'Domo: delete a stream: 204, taking it out of every stream group that lists it; 409 while a run is active or a group it belongs to is running; what it holds is purged in the background' },
  'POST /api/data/v1/streams/{id}/executions': { summary: 'Domo: create an execution; {"updateMethod":"REPLACE"} overrides the stream\'s method', body: executionBody, response: domoExecutionSchema },
  'GET /api/data/v1/streams/{id}/executions': { summary: 'Domo: list executions, newest first (?limit&offset)', response: z.array(domoExecutionSchema) },
  'GET /api/data/v1/streams/{id}/executions/{executionId}': { summary: 'Domo: get an execution', response: domoExecutionSchema },
  'PUT /api/data/v1/streams/{id}/executions/{executionId}': { summary: 'Domo: change an ACTIVE execution\'s updateMethod', body: executionBody, response: domoExecutionSchema },
  'DELETE /api/data/v1/streams/{id}/executions/{executionId}': { summary: 'Domo: delete (abort) an ACTIVE execution', response: domoExecutionSchema },
  'PUT /api/data/v1/streams/{id}/executions/{executionId}/part/{partId}': { summary: 'Domo: upload a part (headerless CSV, gzip accepted); answers the execution', response: domoExecutionSchema },
  'PUT /api/data/v1/streams/{id}/data/{dataId}/parts/{partId}': { summary: 'Domo (legacy path): upload a part; dataId is the execution id', response: domoExecutionSchema },
  'PUT /api/data/v1/streams/{id}/data/{dataId}/{action}': {
    summary: 'Domo: finalize, action commit (body may override updateMethod) or abort; anything else 400',
    body: executionBody,
    response: domoExecutionSchema,
  },

  // --- runs, offsets, stats (issue 6) ---
  'POST /v1/streams/{id}/start': { summary: 'Start a run of the deployed tag (else autosave); 409 while a run is active; Idempotency-Key', response: runSchema },
  'POST /v1/streams/{id}/stop': { summary: 'Stop the active run (409 if none); answers the run once stopped or after a few seconds', response: runSchema },
  'GET /v1/streams/{id}/runs': { summary: "A stream's runs, newest first", response: listOf(runSchema) },
  'GET /v1/streams/{id}/offsets': { summary: 'The committed source offsets the next run continues from', response: offsetsSchema },
  'POST /v1/streams/{id}/offsets/reset': {
    summary: 'Reset offsets to the beginning (or to `offsets`); 409 while a run is active',
    body: z.object({
      offsets: z
        .record(z.string(), z.record(z.string(), z.unknown()))
        .optional()
        .meta({
          description:
            'Per source node id, the offset to continue from, in the shape that source commits (as GET .../offsets shows it): http-collector `{packet, entry}`, dataset-source `{version, row, byte}`, s3-source `{key, line?, done?}`, table-source `{table, key, rows}` in batch streams and `{lsn}` (PostgreSQL) or `{file, position}` (MySQL) in continuous ones, not past the last packet of the stream or the tables of the node. Anything else is a 400 naming the field.',
        }),
    }),
    response: offsetsSchema,
  },
  'GET /v1/runs/{id}': { summary: 'A run', response: runSchema },
  'POST /v1/runs/{id}/pause': { summary: 'Pause at the next bundle boundary; 409 unless running', response: runSchema },
  'POST /v1/runs/{id}/resume': { summary: 'Resume a paused run; 409 unless paused', response: runSchema },
  'POST /v1/runs/{id}/stop': { summary: 'Stop a running or paused run at the next bundle boundary; 409 once ended', response: runSchema },
  'GET /v1/runs/{id}/stats': { summary: 'Per-node and total counts, uptimeSeconds, avgRate', response: runStatsSchema },
  'GET /v1/stats': { summary: 'The stats list: filters solutionId (admin), streamId, status, groupId; lowercase statuses', response: listOf(statsItemSchema) },
  'GET /v1/aggregation-stores/{name}/items': { summary: "An aggregation store's keyed aggregates; ?key= prefix; paginated", response: listOf(aggregateSchema) },

  // --- stream groups (issue 7) ---
  'POST /v1/stream-groups': { summary: 'Create a stream group (ordered streams, optional schedule)', body: groupInput() },
  'GET /v1/stream-groups': { summary: 'List stream groups' },
  'GET /v1/stream-groups/{id}': { summary: 'Get a stream group' },
  'PUT /v1/stream-groups/{id}': { summary: 'Replace a stream group (If-Match)', body: groupInput() },
  'DELETE /v1/stream-groups/{id}': { summary: 'Delete a stream group: 204; 409 while running; 412 on a stale If-Match; its group runs are purged in the background (then 404)' },
  'POST /v1/stream-groups/{id}/start': {
    summary: 'Start a group run (201): every stream is prepared (exists, valid, version pinned), then the streams run one after another; a failed stream fails the group run; 409 while running or when the group has no streams (its last one was deleted); 503 when its execution cannot start (that group run is recorded failed, error start_failed); Idempotency-Key',
    response: groupRunSchema,
  },
  'POST /v1/stream-groups/{id}/stop': { summary: 'Stop the running stream and the group run; the checkpoint is kept; 409 if not running', response: groupRunSchema },
  'POST /v1/stream-groups/{id}/resume': {
    summary: "Stop any stream of the group still running, then continue the last group run from its checkpoint (the first stream that did not finish), preparing the remaining streams again; 409 if it finished, never ran, or is running; Idempotency-Key",
    response: groupRunSchema,
  },
  'GET /v1/stream-groups/{id}/runs': { summary: "A group's runs, newest first", response: listOf(groupRunSchema) },
  'GET /v1/group-runs/{id}': { summary: 'A group run: position, completed streams, current run, checkpoint, error', response: groupRunSchema },

  // --- connections, DBConvert face (issue 8) ---
  'POST /v1/connections': { summary: 'Create a database or S3 connection (the password is write-only, kept in Secrets Manager)', body: connectionInput(), response: connectionSchema },
  'GET /v1/connections': { summary: 'List connections', response: listOf(connectionSchema) },
  'GET /v1/connections/{id}': { summary: 'Get a connection (never its password)', response: connectionSchema },
  'PUT /v1/connections/{id}': { summary: 'Replace a connection; omit password to keep it (If-Match); 409 for a type change while a stream definition or deployed version uses it', body: connectionInput(), response: connectionSchema },
  'DELETE /v1/connections/{id}': { summary: 'Delete a connection (409 while a stream definition or deployed version uses it)' },
  'POST /v1/connections/{id}/ping': {
    summary: 'Really connect: {ok:true, latencyMs}, or 503 {ok:false, error} with the driver reason',
    response: z.object({ ok: z.boolean(), latencyMs: z.number().optional(), error: z.string().optional() }),
  },
  'GET /api/v1/health': { summary: 'DBConvert health, no key: {"ping":"ok"}', response: z.object({ ping: z.literal('ok') }) },
  'POST /api/v1/connections': { summary: 'DBConvert: create a connection (type in any casing)', body: connectionInput(), response: dbcConnectionSchema },
  'GET /api/v1/connections': { summary: 'DBConvert: every connection (array)', response: z.array(dbcConnectionSchema) },
  'POST /api/v1/connections/test': { summary: 'DBConvert: ping an unsaved connection: {"ping":"ok"} or 503 {"ping":"failed", error}', body: unsavedConnection(), response: dbcPingSchema },
  'GET /api/v1/connections/{id}': { summary: 'DBConvert: get a connection', response: dbcConnectionSchema },
  'PUT /api/v1/connections/{id}': { summary: 'DBConvert: replace a connection (omit password to keep it); 409 for a type change while a configuration or stream uses it; a refused PUT changes nothing', body: connectionInput(), response: dbcConnectionSchema },
  'DELETE /api/v1/connections/{id}': { summary: 'DBConvert: delete a connection (409 while a configuration or stream uses it)' },
  'POST /api/v1/connections/{id}/ping': { summary: 'DBConvert: {"ping":"ok"} or 503 {"ping":"failed", error}', response: dbcPingSchema },
  'GET /api/v1/stream-configs': { summary: 'DBConvert: every stream configuration (array)', response: z.array(dbcConfigSchema) },
  'POST /api/v1/stream-configs': { summary: 'DBConvert: create a stream configuration (config_<ulid> is the stream stm_<ulid>); 400 for unknown or s3 connections or mode', body: configInput(), response: dbcConfigSchema },
  'GET /api/v1/stream-configs/{id}': { summary: 'DBConvert: get a stream configuration', response: dbcConfigSchema },
  'DELETE /api/v1/stream-configs/{id}': { summary: 'DBConvert: delete a stream configuration (204; 409 while running or while a stream group holding it runs); it leaves the groups that list it, and a cdc configuration\'s replication slot is dropped by the purge that follows' },
  'PUT /api/v1/stream-configs/{id}/clone': { summary: 'DBConvert: copy with a new config_ id, named <name>_clone (_clone2, ... if taken; cut to 128 characters)', response: dbcConfigSchema },
  'POST /api/v1/stream-configs/{id}/start': { summary: 'DBConvert: start a stream (stream_<ulid> is the run run_<ulid>); 409 while running', response: dbcStartedSchema },
  'GET /api/v1/streams': { summary: 'DBConvert: every stream started through this face (not runs started through /v1), newest first', response: z.array(dbcStartedSchema) },
  'POST /api/v1/streams/{id}/start': { summary: 'DBConvert: start a stream from a config_ id; convert restarts from the beginning, cdc continues', response: dbcStartedSchema },
  'POST /api/v1/streams/{id}/pause': { summary: 'DBConvert: pause a running stream {id, status, paused}; 409 otherwise' },
  'POST /api/v1/streams/{id}/resume': { summary: 'DBConvert: resume a paused stream {id, status, resumed}; 409 otherwise' },
  'POST /api/v1/streams/{id}/stop': { summary: 'DBConvert: stop a running or paused stream {id, status, stopped}; 409 otherwise' },
  'GET /api/v1/streams/{id}/stats': { summary: 'DBConvert: {streamID, configID, source, target, nodes}; 404 for a run not started through this face', response: dbcStatsSchema },
};

const FACE_TAG = { native: 'Sluice', domo: 'Domo Streams', sds: 'MODE SDS', dbconvert: 'DBConvert Streams' } as const;

function operation(route: Route): ZodOpenApiOperationObject {
  const doc = ROUTE_DOCS[routeKey(route)];
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  return {
    operationId: route.handler.replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase()),
    summary: doc?.summary ?? `${route.method} ${route.path}`,
    tags: [FACE_TAG[route.face]],
    security: route.auth === false ? [] : [{ apiKey: [] }, { bearer: [] }],
    'x-sluice-scopes': route.scopes,
    requestParams: params.length ? { path: z.object(Object.fromEntries(params.map((p) => [p, z.string()]))) } : undefined,
    requestBody: doc?.body ? { content: { 'application/json': { schema: doc.body } } } : undefined,
    responses: {
      default: { description: 'Success', content: doc?.response ? { 'application/json': { schema: doc.response } } : undefined },
      '4XX': { description: 'Client error (native face shown; each face has its vendor error body)', content: { 'application/json': { schema: errorSchema } } },
    },
  } as ZodOpenApiOperationObject;
}

export function openApiDocument() {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(route);
  }
  return createDocument({
    openapi: '3.1.0',
    info: { title: 'Sluice', version: process.env.SLUICE_VERSION ?? 'dev', description: 'One stream-management core, four API faces.' },
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
    },
    paths,
  });
}
