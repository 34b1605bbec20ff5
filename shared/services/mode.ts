import { forbidden, isSluiceError, notFound, tooLarge } from '../model/errors.ts';
import { isAdmin, type Principal } from '../model/principal.ts';
import type { Page } from '../store/pagination.ts';
import { solutionIdOfHome } from '../store/solutions.ts';
import { streamIdByName, type StreamRecord } from '../store/streams.ts';
import { getStream, listStreams } from './streams.ts';

/**
 * The MODE Stream Data Store face's mapping onto the core: `homeId` is the
 * solution's integer alias, `moduleId` the stream namespace, `streamName` the
 * stream name. A home of another solution is 404 for a key (existence does not
 * leak); admin keys see every home.
 */
export async function solutionOfHome(principal: Principal, homeId: number): Promise<string> {
  const solutionId = await solutionIdOfHome(homeId);
  if (!solutionId || (solutionId !== principal.solutionId && !isAdmin(principal))) throw notFound(`home ${homeId}`);
  return solutionId;
}

export async function modeStream(principal: Principal, homeId: number, moduleId: string, streamName: string): Promise<StreamRecord> {
  const solutionId = await solutionOfHome(principal, homeId);
  const id = await streamIdByName(solutionId, moduleId, streamName);
  if (!id) throw notFound(`stream ${streamName} in smart module ${moduleId} of home ${homeId}`);
  return getStream(principal, id);
}

/** The MODE Stream object. */
export const modeStreamJson = (stream: StreamRecord, homeId: number) => ({ homeId, moduleId: stream.namespace, name: stream.name });

/** A MODE list answer (a plain array) holds at most this many items; beyond it, page with skip/limit. */
export const MODE_MAX_ITEMS = 10_000;

/**
 * MODE `skip`/`limit` (0 = no limit) over a cursor-paginated core listing:
 * pages are read until skip+limit items are seen, never more than needed.
 */
export async function skipLimit<T>(fetch: (limit: number, cursor?: string) => Promise<Page<T>>, skip: number, limit: number): Promise<T[]> {
  const wanted = limit === 0 ? Number.POSITIVE_INFINITY : limit;
  const out: T[] = [];
  let seen = 0;
  let cursor: string | undefined;
  do {
    const page = await fetch(500, cursor);
    for (const item of page.items) {
      if (seen++ < skip) continue;
      if (out.length >= wanted) return out;
      if (out.length >= MODE_MAX_ITEMS) throw tooLarge(`more than ${MODE_MAX_ITEMS} items match; page with skip and limit`);
      out.push(item);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

export async function listModeStreams(principal: Principal, homeId: number, moduleId: string, skip: number, limit: number) {
  const solutionId = await solutionOfHome(principal, homeId);
  const fetch = (pageSize: number, cursor?: string) => listStreams(solutionId, { namespace: moduleId }, pageSize, cursor);
  const streams = await skipLimit(fetch, skip, limit);
  // A module is known while it holds a stream; skipping past the end of a known one is an empty list.
  if (streams.length === 0 && (skip === 0 || (await fetch(1)).items.length === 0)) throw notFound(`smart module ${moduleId} in home ${homeId}`);
  return streams.map((stream) => modeStreamJson(stream, homeId));
}

/**
 * MODE documents 403 "invalid data" for session writes: the face answers
 * invalid input of those endpoints with 403 and the reason.
 */
export async function asInvalidData<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isSluiceError(error) && error.code === 'invalid_request') throw forbidden(`invalid data: ${error.message}`);
    throw error;
  }
}
