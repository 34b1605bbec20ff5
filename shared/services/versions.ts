import type { Definition } from '../model/definition.ts';
import { conflict, invalid, notFound } from '../model/errors.ts';
import type { Principal } from '../model/principal.ts';
import { diffDefinitions, type DefinitionDiff } from '../model/version-diff.ts';
import { AUTOSAVE, EXPORT_FORMAT } from '../model/versions.ts';
import { decodeCursor, encodeCursor, type Page } from '../store/pagination.ts';
import type { StreamRecord } from '../store/streams.ts';
import { getTag, insertTag, listTagSummaries, MAX_TAGS, type TagRecord } from '../store/versions.ts';
import { getStream } from './streams.ts';

/** One version of a stream: the autosaved one (the stream itself) or a tag. */
export interface ResolvedVersion {
  version: string;
  autosaved: boolean;
  revision: number;
  definition: Definition;
  /** The stream's description at that version. */
  streamDescription: string;
  /** The tag's note (empty for autosave). */
  description: string;
  createdAt: string;
}

export async function resolveVersion(stream: StreamRecord, version: string | undefined): Promise<ResolvedVersion> {
  if (version === undefined || version === AUTOSAVE) {
    return {
      version: AUTOSAVE,
      autosaved: true,
      revision: stream.revision,
      definition: stream.definition,
      streamDescription: stream.description,
      description: '',
      createdAt: stream.updatedAt,
    };
  }
  const tag = await getTag(stream.id, version);
  if (!tag) throw notFound(`version ${version} of stream ${stream.id}`);
  return fromTag(tag);
}

const fromTag = (tag: TagRecord): ResolvedVersion => ({
  version: tag.tag,
  autosaved: false,
  revision: tag.revision,
  definition: tag.definition,
  streamDescription: tag.streamDescription,
  description: tag.description,
  createdAt: tag.createdAt,
});

/**
 * Freezes a definition as an immutable tag; by default the stream's current
 * autosaved one. 409 for a duplicate tag or beyond MAX_TAGS tags.
 */
export async function tagVersion(
  principal: Principal,
  streamId: string,
  tag: string,
  options: { description?: string; frozen?: { definition: Definition; revision: number; streamDescription: string } } = {},
): Promise<ResolvedVersion> {
  const stream = await getStream(principal, streamId);
  const record: TagRecord = {
    streamId,
    tag,
    revision: options.frozen?.revision ?? stream.revision,
    description: options.description ?? '',
    streamDescription: options.frozen?.streamDescription ?? stream.description,
    definition: options.frozen?.definition ?? stream.definition,
    createdAt: new Date().toISOString(),
  };
  const outcome = await insertTag(record);
  if (outcome === 'duplicate') throw conflict(`stream ${streamId} already has a version tagged ${tag}; tags are immutable`);
  if (outcome === 'busy') throw conflict(`stream ${streamId} is being tagged by others right now; try again`);
  if (outcome === 'limit-or-gone') {
    await getStream(principal, streamId); // 404 when it was deleted meanwhile
    throw conflict(`stream ${streamId} already has ${MAX_TAGS} tags, the most a stream may have`);
  }
  return fromTag(record);
}

/** 409 unless the stream can take this tag (for writes that tag after other changes). */
export async function assertTaggable(stream: StreamRecord, tag: string): Promise<void> {
  if (await getTag(stream.id, tag)) throw conflict(`stream ${stream.id} already has a version tagged ${tag}; tags are immutable`);
  if (stream.tagCount >= MAX_TAGS) throw conflict(`stream ${stream.id} already has ${MAX_TAGS} tags, the most a stream may have`);
}

export interface VersionEntry {
  version: string;
  autosaved?: true;
  revision: number;
  description?: string;
  createdAt?: string;
  updatedAt?: string;
}

/**
 * The autosaved version first, then the tags oldest first. The cursor is the
 * last tag returned; the autosaved entry leads the first page only.
 */
export async function listVersions(principal: Principal, streamId: string, limit: number, cursor?: string): Promise<Page<VersionEntry>> {
  const stream = await getStream(principal, streamId);
  const after = decodeCursor(cursor)?.tag;
  if (cursor && typeof after !== 'string') throw decodeCursorError();
  const tags = (await listTagSummaries(streamId)).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.tag.localeCompare(b.tag));
  const entries: VersionEntry[] = [];
  if (!cursor) entries.push({ version: AUTOSAVE, autosaved: true, revision: stream.revision, updatedAt: stream.updatedAt });
  const start = after === undefined ? 0 : tags.findIndex((tag) => tag.tag === after) + 1;
  if (after !== undefined && start === 0) throw decodeCursorError();
  for (const tag of tags.slice(start)) {
    if (entries.length === limit) {
      return { items: entries, nextCursor: encodeCursor({ tag: lastTag(entries) }) };
    }
    entries.push({ version: tag.tag, revision: tag.revision, description: tag.description, createdAt: tag.createdAt });
  }
  return { items: entries, nextCursor: null };
}

const lastTag = (entries: VersionEntry[]) => entries[entries.length - 1].version;
const decodeCursorError = () => invalid('cursor is not a cursor this API returned', [{ path: 'cursor', message: 'malformed cursor' }]);

export interface VersionDiff extends DefinitionDiff {
  from: { version: string; revision: number };
  to: { version: string; revision: number };
}

export async function diffVersions(principal: Principal, streamId: string, a: string, b: string): Promise<VersionDiff> {
  const stream = await getStream(principal, streamId);
  const [from, to] = await Promise.all([resolveVersion(stream, a), resolveVersion(stream, b)]);
  return {
    from: { version: from.version, revision: from.revision },
    to: { version: to.version, revision: to.revision },
    ...diffDefinitions(from.definition, to.definition),
  };
}

export interface ExportedStream {
  format: typeof EXPORT_FORMAT;
  name: string;
  namespace: string;
  description: string;
  version: string;
  definition: Definition;
  exportedAt: string;
}

/** The self-contained document of one version; it carries no ids of this deployment. */
export async function exportStream(principal: Principal, streamId: string, version?: string): Promise<ExportedStream> {
  const stream = await getStream(principal, streamId);
  const resolved = await resolveVersion(stream, version);
  return {
    format: EXPORT_FORMAT,
    name: stream.name,
    namespace: stream.namespace,
    description: resolved.streamDescription,
    version: resolved.version,
    definition: resolved.definition,
    exportedAt: new Date().toISOString(),
  };
}
