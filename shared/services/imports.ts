import * as z from 'zod/mini';
import { validateDefinition } from '../model/definition.ts';
import { SluiceError, conflict, forbidden, isSluiceError, notFound } from '../model/errors.ts';
import { isAdmin, type Principal } from '../model/principal.ts';
import { lazySchema } from '../model/validation.ts';
import { droppedNodeIds } from '../model/version-diff.ts';
import { EXPORT_FORMAT, tagName } from '../model/versions.ts';
import { getSolution } from '../store/solutions.ts';
import { getStreamRecord, streamIdByName, type StreamRecord } from '../store/streams.ts';
import { createStream, namespaceName, streamName, updateStream } from './streams.ts';
import { assertTaggable, tagVersion } from './versions.ts';

/**
 * The import document: an export document (unknown top-level fields are
 * ignored so newer exports still import), plus an optional `tag`.
 */
export const importDocument = /* @__PURE__ */ lazySchema(() =>
  z.object({
    format: z.string({ error: `format is required and must be ${EXPORT_FORMAT}` }).check(z.refine((format) => format === EXPORT_FORMAT, {
      message: `format must be ${EXPORT_FORMAT}; this is not a Sluice stream export`,
    })),
    name: streamName(),
    namespace: z._default(namespaceName(), 'default'),
    description: z._default(z.string().check(z.maxLength(4096)), ''),
    version: z.optional(z.string()),
    definition: z.record(z.string(), z.unknown(), { error: 'definition must be an object' }),
    exportedAt: z.optional(z.string()),
    tag: z.optional(tagName()),
  }),
);
export type ImportDocument = z.output<ReturnType<typeof importDocument>>;

export const ON_CONFLICT = ['fail', 'overwrite', 'create-new', 'skip'] as const;
export type OnConflict = (typeof ON_CONFLICT)[number];

export interface ImportOptions {
  onConflict: OnConflict;
  allowNodeDeletions: boolean;
  solutionId?: string;
}

export type ImportResult = 'created' | 'overwritten' | 'renamed' | 'skipped';

/** How many `name (n)` candidates create-new tries before giving up. */
const MAX_COPIES = 1000;
const MAX_NAME = 128;

/**
 * Imports a document into the caller's solution (or, for admin keys, the one
 * named). Everything is validated before the first write, so a refused import
 * changes nothing.
 */
export async function importStream(
  principal: Principal,
  document: ImportDocument,
  options: ImportOptions,
): Promise<{ result: ImportResult; stream: StreamRecord }> {
  const solutionId = await targetSolution(principal, options.solutionId);
  const definition = await validateDefinition(document.definition);
  const input = { name: document.name, namespace: document.namespace, description: document.description, definition };

  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await findByName(solutionId, document.namespace, document.name);
    if (!existing) {
      const stream = await createUnlessTaken(principal, solutionId, input);
      if (!stream) continue; // someone took the name meanwhile: decide again
      return { result: 'created', stream: await tagImported(principal, stream, document.tag) };
    }
    const where = `a stream named ${document.name} already exists in namespace ${document.namespace} (${existing.id})`;
    switch (options.onConflict) {
      case 'fail':
        throw conflict(`${where}; pass onConflict=overwrite, create-new or skip`);
      case 'skip':
        return { result: 'skipped', stream: existing };
      case 'create-new':
        return { result: 'renamed', stream: await tagImported(principal, await createCopy(principal, solutionId, input), document.tag) };
      case 'overwrite': {
        const dropped = droppedNodeIds(existing.definition, definition);
        if (dropped.length > 0 && !options.allowNodeDeletions) {
          throw new SluiceError(
            'conflict',
            `overwriting ${existing.id} would delete nodes ${dropped.join(', ')}; pass allowNodeDeletions=true to allow it`,
            dropped.map((id) => ({ path: 'definition.nodes', message: `node ${id} would be deleted` })),
          );
        }
        if (document.tag) await assertTaggable(existing, document.tag);
        const stream = await overwriteAt(principal, existing, input);
        if (!stream) continue; // changed meanwhile: check the deletions again against the new revision
        return { result: 'overwritten', stream: await tagImported(principal, stream, document.tag) };
      }
    }
  }
  throw conflict(`stream ${document.name} is being changed by others; try the import again`);
}

async function targetSolution(principal: Principal, requested: string | undefined): Promise<string> {
  if (!requested || requested === principal.solutionId) return principal.solutionId;
  if (!isAdmin(principal)) throw forbidden('only admin keys may import into another solution (solutionId)');
  if (!(await getSolution(requested))) throw notFound(`solution ${requested}`);
  return requested;
}

async function findByName(solutionId: string, namespace: string, name: string): Promise<StreamRecord | undefined> {
  const id = await streamIdByName(solutionId, namespace, name);
  const stream = id ? await getStreamRecord(id) : undefined;
  return stream?.solutionId === solutionId ? stream : undefined;
}

type Input = Parameters<typeof createStream>[1];

/** Creates the stream, or undefined when the name is taken (the name claim transaction decides). */
async function createUnlessTaken(principal: Principal, solutionId: string, input: Input): Promise<StreamRecord | undefined> {
  try {
    return await createStream(principal, input, { solutionId });
  } catch (error) {
    if (isSluiceError(error) && error.code === 'conflict') return undefined;
    throw error;
  }
}

export function copyName(name: string, n: number): string {
  const suffix = ` (${n})`;
  return `${name.slice(0, MAX_NAME - suffix.length)}${suffix}`;
}

/**
 * create-new: the lowest free `name (n)`, n = 2, 3, ... Each candidate is
 * claimed through the same name-claim transaction as every create, so two
 * racing imports never share a name: the loser moves on to the next n.
 */
async function createCopy(principal: Principal, solutionId: string, input: Input): Promise<StreamRecord> {
  for (let n = 2; n <= MAX_COPIES; n++) {
    const name = copyName(input.name, n);
    if (await streamIdByName(solutionId, input.namespace, name)) continue;
    const stream = await createUnlessTaken(principal, solutionId, { ...input, name });
    if (stream) return stream;
  }
  throw conflict(`${MAX_COPIES - 1} copies of ${input.name} exist; choose another name`);
}

/** Overwrites as a new autosaved revision if the stream is still at the revision checked. */
async function overwriteAt(principal: Principal, existing: StreamRecord, input: Input): Promise<StreamRecord | undefined> {
  try {
    return await updateStream(principal, existing.id, () => ({ description: input.description, definition: input.definition }), existing.revision);
  } catch (error) {
    if (isSluiceError(error) && (error.code === 'precondition_failed' || error.code === 'not_found')) return undefined;
    throw error;
  }
}

async function tagImported(principal: Principal, stream: StreamRecord, tag: string | undefined): Promise<StreamRecord> {
  if (!tag) return stream;
  await tagVersion(principal, stream.id, tag, {
    description: 'imported',
    frozen: { definition: stream.definition, revision: stream.revision, streamDescription: stream.description },
  });
  return { ...stream, tagCount: stream.tagCount + 1 };
}
