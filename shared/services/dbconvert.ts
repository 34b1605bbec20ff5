import * as z from 'zod/mini';
import { lazySchema, parseWith } from '../model/validation.ts';
import { invalid, isSluiceError, notFound, conflict } from '../model/errors.ts';
import type { Principal } from '../model/principal.ts';
import { article, type Definition } from '../model/definition.ts';
import type { StreamRecord } from '../store/streams.ts';
import { allPages } from '../store/pagination.ts';
import { listRunRecords, resetStreamOffsets, type RunRecord } from '../store/runs.ts';
import { createStream, deleteStream, getStream, listStreams, streamInput, streamName, type ConnectionRefusal } from './streams.ts';
import { runningMs } from './run-stats.ts';
import { getRun, pauseRunRecord, resumeRunRecord, startRunOf, stopRunRecord } from './runs.ts';

/**
 * The DBConvert Streams face over the core (seed 003): a stream
 * configuration `config_<ulid>` IS the Sluice stream `stm_<ulid>` (namespace
 * `dbconvert`) whose definition is table-source → table-sink; a started stream
 * `stream_<ulid>` IS the run `run_<ulid>`. What the definition cannot hold (the
 * mode as sent, `created`, `limits` as sent, whether truncateTarget was given)
 * is kept in the stream's `faces.dbconvert`. A configuration claims its two
 * connections when it is written, as every stream does (services/streams.ts),
 * and a run started here is marked `face: "dbconvert"`: the face sees only
 * those runs.
 */
export const DBCONVERT_NAMESPACE = 'dbconvert';
/** The mark of a run started through this face (`RunRecord.face`). */
const DBCONVERT_FACE = 'dbconvert';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const alias = (id: string, from: string, to: string) => {
  const prefix = `${from}_`;
  return id.startsWith(prefix) && ULID.test(id.slice(prefix.length)) ? `${to}_${id.slice(prefix.length)}` : undefined;
};
export const configIdOf = (streamId: string) => `config_${streamId.slice(4)}`;
export const streamIdOfRun = (runId: string) => `stream_${runId.slice(4)}`;

const table = () =>
  z.strictObject({
  name: z.string().check(z.trim(), z.minLength(1, 'a table needs a name')),
  query: z.optional(z.string().check(z.trim(), z.minLength(1))),
  operations: z.optional(z.array(z.enum(['insert', 'update', 'delete']))),
});

export const configInput = /* @__PURE__ */ lazySchema(() =>
  z.object({
  name: streamName(),
  source: z.string().check(z.minLength(1, 'source is required')),
  target: z.string().check(z.minLength(1, 'target is required')),
  mode: z.pipe(z.pipe(z.string(), z.transform((m) => m.trim().toLowerCase())), z.enum(['convert', 'load', 'cdc'], { message: 'mode must be convert, load or cdc' })),
  tables: z.array(table()).check(z.minLength(1, 'tables needs at least one table')),
  dataBundleSize: z._default(z.number().check(z.int(), z.gte(1), z.lte(10_000)), 500),
  reportingIntervals: z._default(z.object({ source: z._default(z.number().check(z.int(), z.gte(1)), 3), target: z._default(z.number().check(z.int(), z.gte(1)), 3) }), { source: 3, target: 3 }),
  limits: z._default(z.object({ numberOfEvents: z.optional(z.number().check(z.int(), z.gte(0))), elapsedTime: z.optional(z.number().check(z.int(), z.gte(0))) }), {}),
  createStructure: z._default(z.boolean(), true),
  truncateTarget: z.optional(z.boolean()),
  }),
);
export type ConfigInput = z.output<ReturnType<typeof configInput>>;

interface DbconvertFace {
  mode: 'convert' | 'load' | 'cdc';
  created: number;
  limits: { numberOfEvents?: number; elapsedTime?: number };
  truncateTargetGiven: boolean;
}

/**
 * The face's 400 for a configuration whose connections its write refused (it
 * claims them, checking that each exists in the solution and is a database:
 * services/streams.ts): the first problem, named by the node's id (`source` or
 * `target`, definitionOf), as the face says it.
 */
const connectionRefusal: ConnectionRefusal = ([first]) =>
  invalid(
    first.problem === 'missing'
      ? `${first.nodeId} connection ${first.connectionId} does not exist`
      : `${first.nodeId} connection ${first.connectionId} is ${article(first.connectionType!)} ${first.connectionType} connection; stream configurations need a database`,
  );

function definitionOf(input: ConfigInput): Definition {
  return {
    mode: input.mode === 'cdc' ? 'continuous' : 'batch',
    nodes: [
      { id: 'source', type: 'table-source', config: { connectionId: input.source, tables: input.tables } },
      {
        id: 'target',
        type: 'table-sink',
        config: { connectionId: input.target, createStructure: input.createStructure, truncateTarget: input.truncateTarget ?? false },
      },
    ],
    edges: [{ from: 'source', to: 'target' }],
    nodeGroups: [],
    settings: {
      dataBundleSize: input.dataBundleSize,
      reportingIntervals: input.reportingIntervals,
      limits: { numberOfEvents: input.limits.numberOfEvents ?? 0, elapsedTime: input.limits.elapsedTime ?? 0 },
    },
  } as Definition;
}

/** The seed's configuration object, from the stream. */
export function configJson(stream: StreamRecord) {
  const face = stream.faces?.dbconvert as DbconvertFace;
  const source = stream.definition.nodes.find((n) => n.type === 'table-source');
  const sink = stream.definition.nodes.find((n) => n.type === 'table-sink');
  return {
    id: configIdOf(stream.id),
    name: stream.name,
    source: source?.config.connectionId,
    target: sink?.config.connectionId,
    mode: face.mode,
    created: face.created,
    dataBundleSize: stream.definition.settings.dataBundleSize,
    limits: face.limits,
    reportingIntervals: stream.definition.settings.reportingIntervals,
    tables: source?.config.tables ?? [],
    createStructure: sink?.config.createStructure ?? true,
    ...(face.truncateTargetGiven ? { truncateTarget: sink?.config.truncateTarget ?? false } : {}),
  };
}

export async function createConfig(principal: Principal, input: ConfigInput): Promise<StreamRecord> {
  const face: DbconvertFace = {
    mode: input.mode,
    created: Math.floor(Date.now() / 1000),
    limits: input.limits,
    truncateTargetGiven: input.truncateTarget !== undefined,
  };
  return createStream(
    principal,
    parseWith(streamInput(), { name: input.name, namespace: DBCONVERT_NAMESPACE, description: 'DBConvert stream configuration', definition: definitionOf(input) }, 'the stream configuration'),
    { faces: { dbconvert: face }, connectionRefusal },
  );
}

/** A core read whose 404 becomes `undefined`, so the face answers its own 404 (named by the face's id). */
const unlessNotFound = <T>(read: Promise<T>): Promise<T | undefined> =>
  read.catch((error: unknown) => {
    if (isSluiceError(error) && error.code === 'not_found') return undefined;
    throw error;
  });

export async function getConfig(principal: Principal, configId: string): Promise<StreamRecord> {
  const streamId = alias(configId, 'config', 'stm');
  if (!streamId) throw notFound(`stream configuration ${configId}`);
  const stream = await unlessNotFound(getStream(principal, streamId));
  if (!stream?.faces?.dbconvert) throw notFound(`stream configuration ${configId}`);
  return stream;
}

/** 204; 409 while a stream started from it is running. Its connections then forget its claim (deleteStream). */
export async function deleteConfig(principal: Principal, configId: string): Promise<void> {
  const config = await getConfig(principal, configId);
  // Said in this face's ids; the delete's transaction refuses a run started meanwhile just the same.
  if (config.activeRun) throw conflict(`stream configuration ${configId} is running as ${streamIdOfRun(config.activeRun.id)}; stop it first`);
  await deleteStream(principal, config.id, { read: config });
}

export async function listConfigs(principal: Principal): Promise<StreamRecord[]> {
  const all = await allPages((cursor) => listStreams(principal.solutionId, { namespace: DBCONVERT_NAMESPACE }, 500, cursor));
  return all.filter((s) => s.faces?.dbconvert);
}

/** A copy with a new id and the same settings, named `<name>_clone` (`_clone2`, ... if taken). */
export async function cloneConfig(principal: Principal, configId: string): Promise<StreamRecord> {
  const original = await getConfig(principal, configId);
  const face = original.faces!.dbconvert as DbconvertFace;
  for (let n = 1; n <= 50; n++) {
    const suffix = `_clone${n > 1 ? n : ''}`;
    // Names are at most 128 characters: a long name is cut to fit its suffix.
    const name = `${original.name.slice(0, 128 - suffix.length)}${suffix}`;
    try {
      return await createStream(
        principal,
        parseWith(streamInput(), { name, namespace: DBCONVERT_NAMESPACE, description: original.description, definition: structuredClone(original.definition) }, 'the clone'),
        { faces: { dbconvert: { ...face, created: Math.floor(Date.now() / 1000) } }, connectionRefusal },
      );
    } catch (error) {
      if ((error as { code?: string }).code !== 'conflict') throw error;
    }
  }
  throw conflict(`too many clones of ${original.name}; rename some`);
}

/**
 * Starts a stream from a configuration. A convert (load) start copies the
 * tables from the beginning: the stream's offsets are reset first (409 if a
 * run is active); a cdc start continues from the replication position the
 * previous run committed.
 */
export async function startConfig(principal: Principal, configId: string): Promise<RunRecord> {
  const stream = await getConfig(principal, configId);
  if (stream.activeRun) throw conflict(`stream configuration ${configId} is already running as ${streamIdOfRun(stream.activeRun.id)}`);
  if (stream.definition.mode === 'batch' && !(await resetStreamOffsets(stream.id, {}))) {
    throw conflict(`stream configuration ${configId} is already running`);
  }
  // The stream read above (getConfig checked its tenancy); the run's insert claims the active-run slot conditionally.
  return (await startRunOf(stream, { trigger: 'api', face: DBCONVERT_FACE })).run!;
}

/**
 * A started stream `stream_…`: a run of the caller's solution started through
 * this face. Any other id, and a run started otherwise (native /v1, schedule,
 * group), is 404 here.
 */
export async function getStartedStream(principal: Principal, streamId: string): Promise<RunRecord> {
  const runId = alias(streamId, 'stream', 'run');
  const run = runId ? await unlessNotFound(getRun(principal, runId)) : undefined;
  if (run?.face !== DBCONVERT_FACE) throw notFound(`stream ${streamId}`);
  return run;
}

const CONTROLS = { pause: pauseRunRecord, resume: resumeRunRecord, stop: stopRunRecord };

/** Pauses, resumes or stops a started stream; a refusal (409) names it by its `stream_` id, as this face does. */
export async function controlStartedStream(principal: Principal, streamId: string, action: keyof typeof CONTROLS): Promise<RunRecord> {
  const run = await getStartedStream(principal, streamId);
  try {
    return await CONTROLS[action](run);
  } catch (error) {
    if (isSluiceError(error)) error.message = error.message.replaceAll(`run ${run.id}`, `stream ${streamId}`);
    throw error;
  }
}

export const nowUnix = () => Math.floor(Date.now() / 1000);

export const unix = (iso: string | null | undefined) => (iso ? Math.floor(Date.parse(iso) / 1000) : null);

/** `PT1H2M3.5S` */
export function isoDuration(ms: number): string {
  const total = Math.max(0, ms) / 1000;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = Math.round((total % 60) * 1000) / 1000;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s || (!h && !m) ? `${s}S` : ''}`;
}

/** The seed's stats `{streamID, source, target}` plus `configID` and `nodes`. */
export function statsJson(run: RunRecord) {
  // Paused time is not running time, as in the native uptime.
  const elapsedMs = runningMs(run);
  const status = run.status.toUpperCase();
  const nodeStat = (nodeId: string, side: 'source' | 'target') => {
    const stat = run.stats.find((s) => s.nodeId === nodeId);
    const counter = stat?.out ?? 0;
    const size = side === 'source' ? (stat?.bytesIn ?? 0) : (stat?.bytesOut ?? 0);
    return {
      counter,
      failedCounter: stat?.failed ?? 0,
      prevDataSize: size,
      sumDataSize: size,
      reportingInterval: run.definition.settings.reportingIntervals[side],
      start: run.startedAt.replace(/\.\d+Z$/, 'Z'),
      duration: isoDuration(elapsedMs),
      avgRate: elapsedMs > 0 ? Math.round((counter / (elapsedMs / 1000)) * 100) / 100 : 0,
      status,
    };
  };
  const sourceId = run.definition.nodes.find((n) => n.type === 'table-source')?.id ?? 'source';
  const targetId = run.definition.nodes.find((n) => n.type === 'table-sink')?.id ?? 'target';
  return {
    streamID: streamIdOfRun(run.id),
    configID: configIdOf(run.streamId),
    source: nodeStat(sourceId, 'source'),
    target: nodeStat(targetId, 'target'),
    nodes: run.definition.nodes.map((n) => ({
      id: n.id,
      type: n.type === 'table-source' ? 'source' : n.type === 'table-sink' ? 'target' : n.type,
      stat: nodeStat(n.id, n.type === 'table-sink' ? 'target' : 'source'),
    })),
    ...(run.error ? { error: run.error.message } : {}),
  };
}

export function startedJson(run: RunRecord) {
  return {
    id: streamIdOfRun(run.id),
    configID: configIdOf(run.streamId),
    status: run.status.toUpperCase(),
    started: unix(run.startedAt),
    ...(run.endedAt ? { ended: unix(run.endedAt) } : {}),
    ...(run.error ? { error: run.error.message } : {}),
  };
}

/** Every stream started through this face from the solution's configurations, newest first. */
export async function listStartedStreams(principal: Principal): Promise<RunRecord[]> {
  const perConfig = await Promise.all((await listConfigs(principal)).map((config) => allPages((cursor) => listRunRecords(config.id, 500, cursor))));
  return perConfig
    .flat()
    .filter((run) => run.face === DBCONVERT_FACE)
    .sort((a, b) => (a.id < b.id ? 1 : -1));
}

