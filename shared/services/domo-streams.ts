import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { lazySchema } from '../model/validation.ts';
import { invalid, isSluiceError, notFound } from '../model/errors.ts';
import type { Principal } from '../model/principal.ts';
import { domoSchedule, schedulerCronOf, type DomoSchedule } from '../model/schedule.ts';
import { armSchedule } from './schedules.ts';
import { deleteDomoAlias, nextDomoStreamNumber, putDomoAlias, streamIdOfDomo } from '../store/domo.ts';
import { listStreamRecords, type StreamRecord } from '../store/streams.ts';
import type { Definition } from '../model/definition.ts';
import { updateMethod } from './executions.ts';
import { createStream, deleteStream, getStream, updateStream } from './streams.ts';

/**
 * The Domo Streams face's rules over the core: a Domo stream is a normal
 * Sluice stream in namespace `domo` named after its `dataSource.name`, with
 * every Domo-only attribute in `faces.domo` and an integer alias.
 */
export const DOMO_NAMESPACE = 'domo';

const jsonObject = () => z.record(z.string(), z.unknown());
const domoSchemaDefinition = () =>
  z.looseObject({
  columns: z.array(z.looseObject({ name: z.string().check(z.minLength(1)), type: z._default(z.string(), 'STRING') })).check(z.minLength(1)),
  });
const dataSourceInput = () =>
  z.looseObject({
  id: z.optional(z.string().check(z.minLength(1))),
  name: z.string().check(z.trim(), z.minLength(1, 'dataSource.name is required'), z.maxLength(1024)),
  description: z.optional(z.string().check(z.maxLength(4096))),
  owner: z.optional(z.looseObject({ id: z.union([z.number(), z.string()]) })),
  schema: z.optional(domoSchemaDefinition()),
  });

export const domoStreamInput = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({
  transport: z._default(z.looseObject({ type: z.string().check(z.trim(), z.minLength(1)) }), { type: 'API' }),
  dataSource: dataSourceInput(),
  account: z.optional(jsonObject()),
  configuration: z.optional(jsonObject()),
  streamConfiguration: z.optional(jsonObject()),
  schedule: z.optional(z.nullable(domoSchedule())),
  dataProvider: z.optional(jsonObject()),
  schemaDefinition: z.optional(domoSchemaDefinition()),
  updateMethod: z.optional(updateMethod()),
  keyColumnNames: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  }),
);
export type DomoStreamInput = z.output<ReturnType<typeof domoStreamInput>>;

/** Only these change on update (seed 001); anything else in the body is ignored. */
export const domoStreamUpdate = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({
    dataSource: z.optional(z.partial(dataSourceInput())),
    account: z.optional(jsonObject()),
    streamConfiguration: z.optional(jsonObject()),
    schemaDefinition: z.optional(z.nullable(domoSchemaDefinition())),
  }),
);
export type DomoStreamUpdate = z.output<ReturnType<typeof domoStreamUpdate>>;

export interface DomoFace {
  id: number;
  transport: Record<string, unknown>;
  dataSource: Record<string, unknown> & { id: string; name: string };
  account?: Record<string, unknown>;
  configuration?: Record<string, unknown>;
  schedule?: DomoSchedule | null;
  dataProvider?: Record<string, unknown>;
  schemaDefinition?: z.output<ReturnType<typeof domoSchemaDefinition>> | null;
  updateMethod?: string;
  keyColumnNames?: string[];
  createdAt: string;
  createdBy: number | string | null;
  modifiedAt: string;
  modifiedBy: number | string | null;
}

export const domoFaceOf = (stream: StreamRecord): DomoFace | undefined => stream.faces?.domo as DomoFace | undefined;

/** Sluice stream names are path segments elsewhere: no / \ ? #, at most 128 characters. */
const nativeName = (name: string) => name.replace(/[/\\?#]/g, '-').trim().slice(0, 100) || 'unnamed';

const ownerIdOf = (input: { dataSource?: { owner?: { id: unknown } }; account?: Record<string, unknown> }) =>
  (input.dataSource?.owner?.id as number | string | undefined) ?? (input.account?.userId as number | string | undefined) ?? null;

/** The native definition carries the schedule's cron when EventBridge can express it (the runs issue arms it). */
function definitionFor(current: Definition | undefined, schedule: DomoFace['schedule']): Record<string, unknown> {
  const cron = schedulerCronOf(schedule);
  return { ...(current ?? {}), schedule: cron ? { cron } : null };
}

export async function createDomoStream(principal: Principal, input: DomoStreamInput): Promise<StreamRecord> {
  if (input.updateMethod === 'UPSERT' && !input.keyColumnNames?.length) {
    throw invalid('updateMethod UPSERT needs keyColumnNames', [{ path: 'keyColumnNames', message: 'required for UPSERT' }]);
  }
  const number = await nextDomoStreamNumber(principal.solutionId);
  const now = new Date().toISOString();
  const ownerId = ownerIdOf(input);
  const { name: _n, ...dataSourceRest } = input.dataSource;
  const face: DomoFace = {
    id: number,
    transport: input.transport,
    dataSource: {
      ...dataSourceRest,
      id: input.dataSource.id ?? randomUUID(),
      name: input.dataSource.name,
      ...(ownerId !== null && !input.dataSource.owner ? { owner: { id: ownerId } } : {}),
    },
    account: input.account,
    configuration: input.configuration ?? input.streamConfiguration,
    schedule: input.schedule ?? null,
    dataProvider: input.dataProvider,
    schemaDefinition: input.schemaDefinition ?? null,
    updateMethod: input.updateMethod ?? 'APPEND',
    keyColumnNames: input.keyColumnNames,
    createdAt: now,
    createdBy: ownerId,
    modifiedAt: now,
    modifiedBy: ownerId,
  };
  const base = nativeName(input.dataSource.name);
  const streamInput = {
    namespace: DOMO_NAMESPACE,
    description: input.dataSource.description ?? '',
    definition: definitionFor(undefined, face.schedule),
  };
  let stream: StreamRecord;
  try {
    stream = await createStream(principal, { ...streamInput, name: base }, { faces: { domo: face } });
  } catch (error) {
    // Domo allows many streams with one data source name; the native name stays unique.
    if (!isSluiceError(error) || error.code !== 'conflict') throw error;
    stream = await createStream(principal, { ...streamInput, name: `${base} (domo ${number})` }, { faces: { domo: face } });
  }
  await putDomoAlias(principal.solutionId, number, stream.id);
  // Domo has no deploy step: a stream with a schedule is armed at creation (deleteStream disarms it).
  if (stream.definition.schedule?.cron) await armSchedule(stream, stream.definition);
  return stream;
}

export function parseDomoId(raw: string, what = 'stream id'): number {
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < 1) throw invalid(`${what} ${raw} is not a positive integer`);
  return Number(raw);
}

/** The Sluice stream behind a Domo stream id of the caller's solution. */
export async function getDomoStream(principal: Principal, rawId: string): Promise<StreamRecord> {
  const number = parseDomoId(rawId);
  const streamId = await streamIdOfDomo(principal.solutionId, number);
  if (!streamId) throw notFound(`stream ${number}`);
  const stream = await getStream(principal, streamId).catch((error) => {
    throw isSluiceError(error) && error.code === 'not_found' ? notFound(`stream ${number}`) : error;
  });
  return stream;
}

export async function updateDomoStream(principal: Principal, rawId: string, input: DomoStreamUpdate): Promise<StreamRecord> {
  const stream = await getDomoStream(principal, rawId);
  const change = (current: StreamRecord, renameTo?: string) => {
    const face = domoFaceOf(current)!;
    const dataSource = input.dataSource ? { ...face.dataSource, ...input.dataSource, id: face.dataSource.id } : face.dataSource;
    const next: DomoFace = {
      ...face,
      dataSource: dataSource as DomoFace['dataSource'],
      account: input.account ?? face.account,
      configuration: input.streamConfiguration ?? face.configuration,
      schemaDefinition: input.schemaDefinition === undefined ? face.schemaDefinition : input.schemaDefinition,
      modifiedAt: new Date().toISOString(),
    };
    const renamed = input.dataSource?.name !== undefined && input.dataSource.name !== face.dataSource.name;
    return {
      name: renamed ? (renameTo ?? nativeName(input.dataSource!.name!)) : undefined,
      description: input.dataSource?.description,
      faces: { ...current.faces, domo: next },
    };
  };
  try {
    return await updateStream(principal, stream.id, (current) => change(current));
  } catch (error) {
    if (!isSluiceError(error) || error.code !== 'conflict' || !input.dataSource?.name) throw error;
    const number = domoFaceOf(stream)!.id;
    return updateStream(principal, stream.id, (current) => change(current, `${nativeName(input.dataSource!.name!)} (domo ${number})`));
  }
}

export async function deleteDomoStream(principal: Principal, rawId: string): Promise<void> {
  const stream = await getDomoStream(principal, rawId);
  await deleteStream(principal, stream.id, { read: stream });
  await deleteDomoAlias(principal.solutionId, domoFaceOf(stream)!.id);
}

// ------------------------------------------------------------------ search

export const SEARCH_FIELDS = ['account.configurations.value', 'dataSource.id', 'dataSource.name', 'dataSource.owner.id', 'transport.type'] as const;

const wildcard = (pattern: string) =>
  new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');

function matcher(q: string | undefined): (face: DomoFace) => boolean {
  if (!q) throw invalid(`q is required: field:value with field one of ${SEARCH_FIELDS.join(', ')}`, [{ path: 'q', message: 'required' }]);
  const colon = q.indexOf(':');
  const field = colon < 0 ? q : q.slice(0, colon);
  const value = colon < 0 ? '' : q.slice(colon + 1).trim();
  if (!(SEARCH_FIELDS as readonly string[]).includes(field)) {
    throw invalid(`q field ${field} is not searchable; use one of ${SEARCH_FIELDS.join(', ')} (one at a time)`, [{ path: 'q', message: `unknown field ${field}` }]);
  }
  if (!value) throw invalid(`q ${q} has no value after ${field}:`, [{ path: 'q', message: 'missing value' }]);
  const same = (a: unknown) => a !== undefined && a !== null && String(a).toLowerCase() === value.toLowerCase();
  switch (field as (typeof SEARCH_FIELDS)[number]) {
    case 'transport.type':
      return (face) => same(face.transport?.type);
    case 'dataSource.id':
      return (face) => face.dataSource?.id === value;
    case 'dataSource.name': {
      const pattern = wildcard(value);
      return (face) => pattern.test(String(face.dataSource?.name ?? ''));
    }
    case 'dataSource.owner.id':
      return (face) => same((face.dataSource?.owner as { id?: unknown } | undefined)?.id);
    case 'account.configurations.value':
      return (face) => {
        const configurations = face.account?.configurations;
        if (!Array.isArray(configurations)) return false;
        return configurations.some((entry) =>
          entry && typeof entry === 'object'
            ? 'value' in entry
              ? same((entry as { value: unknown }).value)
              : Object.values(entry).some(same)
            : same(entry),
        );
      };
  }
}

/** Domo streams of the caller's solution matching `q` (one field at a time), in creation order. */
export async function searchDomoStreams(principal: Principal, q: string | undefined, limit: number, offset: number): Promise<StreamRecord[]> {
  const matches = matcher(q);
  const found: StreamRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await listStreamRecords(principal.solutionId, 500, cursor, (stream) => {
      const face = domoFaceOf(stream);
      return face !== undefined && matches(face);
    });
    found.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && found.length < offset + limit);
  return found.slice(offset, offset + limit);
}

