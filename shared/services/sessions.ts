import * as z from 'zod/mini';
import { lazySchema } from '../model/validation.ts';
import { conflict, invalid, notFound } from '../model/errors.ts';
import { newId } from '../model/ids.ts';
import type { Principal } from '../model/principal.ts';
import { getDataStatus, MAX_PACKET_INDEX, type Actor } from '../store/packets.ts';
import type { Page } from '../store/pagination.ts';
import {
  acquireSessionUse,
  closeLiveSession,
  deleteSessionRecord,
  getSession,
  listSessionsOverlapping,
  openLiveSession,
  putSession,
  releaseSessionUse,
  type SessionRecord,
} from '../store/sessions.ts';
import type { StreamRecord } from '../store/streams.ts';

/** The session object of both faces (MODE "Stream Session"). */
export interface SessionView {
  id: string;
  start: number;
  stop: number;
  author: Actor;
}

export const sessionView = (session: SessionRecord): SessionView => ({ id: session.id, start: session.start, stop: session.stop, author: session.author });

/** The body of a session add (both faces). */
export const sessionInput = /* @__PURE__ */ lazySchema(() =>
  z.object({
    start: z.number().check(z.int(), z.gte(1), z.lte(MAX_PACKET_INDEX)),
    stop: z.number().check(z.int(), z.gte(1), z.lte(MAX_PACKET_INDEX)),
  }),
);

const keyActor = (principal: Principal): Actor => ({ type: 'key', id: principal.keyId });

export function checkRange(start: number, stop: number): void {
  if (start > stop) throw invalid(`start (${start}) is after stop (${stop})`, [{ path: 'start', message: 'start must be <= stop' }]);
}

export async function listSessions(stream: StreamRecord, start: number, stop: number, limit: number, cursor?: string): Promise<Page<SessionView>> {
  checkRange(start, stop);
  const page = await listSessionsOverlapping(stream.id, start, stop, limit, cursor);
  return { items: page.items.map(sessionView), nextCursor: page.nextCursor };
}

/** A session over known packets: 1 <= start <= stop <= the last packet index (400 otherwise). */
export async function addSession(principal: Principal, stream: StreamRecord, start: number, stop: number): Promise<SessionView> {
  checkRange(start, stop);
  const last = (await getDataStatus(stream.id)).packetIndex;
  if (start < 1 || stop > last) {
    throw invalid(`a session must lie within the known packets 1..${last}; got ${start}..${stop}`, [
      { path: start < 1 ? 'start' : 'stop', message: `outside 1..${last}` },
    ]);
  }
  const session: SessionRecord = { id: newId('session'), start, stop, author: keyActor(principal), createdAt: new Date().toISOString() };
  await putSession(stream.id, session);
  return sessionView(session);
}

export async function getSessionOf(stream: StreamRecord, sessionId: string): Promise<SessionView> {
  const session = await getSession(stream.id, sessionId);
  if (!session) throw notFound(`session ${sessionId}`);
  return sessionView(session);
}

export async function deleteSession(stream: StreamRecord, sessionId: string): Promise<void> {
  const outcome = await deleteSessionRecord(stream.id, sessionId);
  if (outcome === 'missing') throw notFound(`session ${sessionId}`);
  if (outcome === 'in-use') throw conflict(`session ${sessionId} is in use by a download or a run; try again when it is done`);
}

/** Starts a live session: openPacketIndex becomes the next packet's index (409 when one is open). */
export async function openSession(stream: StreamRecord): Promise<{ openPacketIndex: number }> {
  const outcome = await openLiveSession(stream.id);
  if (!outcome.ok) {
    const status = await getDataStatus(stream.id);
    throw conflict(`a session is already open on this stream since packet ${status.openPacketIndex}`);
  }
  return { openPacketIndex: outcome.openPacketIndex! };
}

/**
 * Ends the live session: the session openPacketIndex..packetIndex is created
 * (null when no packet arrived since it opened) and openPacketIndex is cleared.
 */
export async function closeSession(principal: Principal, stream: StreamRecord): Promise<SessionView | null> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const status = await getDataStatus(stream.id);
    if (status.openPacketIndex === null) throw conflict('no session is open on this stream');
    const session: SessionRecord | undefined =
      status.packetIndex >= status.openPacketIndex
        ? { id: newId('session'), start: status.openPacketIndex, stop: status.packetIndex, author: keyActor(principal), createdAt: new Date().toISOString() }
        : undefined;
    if ((await closeLiveSession(stream.id, status, session)) === 'ok') return session ? sessionView(session) : null;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
  }
  throw conflict('the stream kept changing while closing the session; retry');
}

/**
 * Marks a session in use (delete answers 409) until released or `ttlSeconds`
 * pass, whichever comes first. For runs and downloads; returns the release.
 */
export async function useSession(streamId: string, sessionId: string, ttlSeconds = 900): Promise<() => Promise<void>> {
  if (!(await acquireSessionUse(streamId, sessionId, Date.now() + ttlSeconds * 1000))) throw notFound(`session ${sessionId}`);
  return () => releaseSessionUse(streamId, sessionId);
}

/** Holds every session overlapping first..last while a bundle of that range is built. */
export async function holdSessionsOverlapping(streamId: string, first: number, last: number, ttlSeconds = 900): Promise<() => Promise<void>> {
  const held: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listSessionsOverlapping(streamId, first, last, 500, cursor);
    for (const session of page.items) {
      if (await acquireSessionUse(streamId, session.id, Date.now() + ttlSeconds * 1000)) held.push(session.id);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return async () => {
    await Promise.all(held.map((id) => releaseSessionUse(streamId, id)));
  };
}
