import * as z from 'zod';
import { sessionInput } from '../services/sessions.ts';

/**
 * OpenAPI entries of the packet data plane (native) and the MODE SDS face,
 * spread into ROUTE_DOCS in openapi.ts.
 */
const actor = z.object({ type: z.string().meta({ description: '"key" (an API key) or "run" (a packet-sink)' }), id: z.string() });
const appended = z.object({ index: z.number().int(), size: z.number().int(), receivedAt: z.string() });
const status = z
  .object({
    lastPacketReceivedAt: z.string().nullable(),
    packetIndex: z.number().int().meta({ description: 'the last committed index; 0 = no packet yet' }),
    openPacketIndex: z.number().int().nullable().meta({ description: 'first index of the open live session, if any' }),
    streamOwner: actor.extend({ expiresAt: z.string() }).nullable(),
  })
  .meta({ id: 'StreamDataStatus' });
const session = z.object({ id: z.string(), start: z.number().int(), stop: z.number().int(), author: actor }).meta({ id: 'StreamSession' });
const metadata = z
  .object({ packetIndex: z.number().int(), content: z.record(z.string(), z.unknown()), receivedAt: z.string(), updatedAt: z.string(), source: actor })
  .meta({ id: 'StreamMetadataPacket' });
const entry = z.object({ index: z.number().int(), size: z.number().int(), contentType: z.string(), receivedAt: z.string(), source: actor });
const page = (item: z.ZodType) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
const modeStream = z.object({ homeId: z.number().int(), moduleId: z.string(), name: z.string() }).meta({ id: 'ModeStream' });

const DATA = 'answers 302 with Location: a presigned URL (5 minutes) of a concatenation of MessagePack arrays [streamName, packetIndex, bytes], one per packet in index order; stop beyond the last packet is clamped; a range without packets is 404; start > stop is 400';
const MODE = '/homes/{homeId}/smartModules/{moduleId}/streams';

export const PACKET_ROUTE_DOCS = {
  'POST /v1/streams/{id}/packets': {
    summary: 'Append one packet: the body is its raw bytes (any Content-Type, 1 byte..5 MiB, 413 beyond); 201 with its index; 409 while another writer owns the stream; Idempotency-Key replays',
    response: appended,
  },
  'POST /v1/streams/{id}/packets/batch': {
    summary: 'Append up to 97 packets as consecutive indexes, all or nothing: application/msgpack (an array of bin) or application/json',
    body: z.object({ packets: z.array(z.object({ data: z.string().meta({ description: 'base64' }), contentType: z.string().optional() })) }),
    response: z.object({ first: z.number().int(), last: z.number().int(), packets: z.array(appended) }),
  },
  'GET /v1/streams/{id}/packets': { summary: 'Packet index entries, ?start&stop (default: all), paginated', response: page(entry) },
  'GET /v1/streams/{id}/status': { summary: 'Data-plane status of a stream', response: status },
  'PUT /v1/streams/{id}/owner': {
    summary: 'Take or renew the writer lease (409 while another key holds an unexpired one)',
    body: z.object({ ttlSeconds: z.number().int().min(1).max(86400).default(60) }),
    response: status,
  },
  'DELETE /v1/streams/{id}/owner': { summary: 'Release the writer lease (204; 409 while another key holds it)' },
  'GET /v1/streams/{id}/sessions': { summary: 'Sessions overlapping ?start&stop (both required), paginated', response: page(session) },
  'POST /v1/streams/{id}/sessions': { summary: 'Add a session over known packets (400 otherwise)', body: sessionInput(), response: session },
  'POST /v1/streams/{id}/sessions/open': {
    summary: 'Open a live session: openPacketIndex becomes the next index (409 if one is open)',
    response: z.object({ openPacketIndex: z.number().int() }),
  },
  'POST /v1/streams/{id}/sessions/close': {
    summary: 'Close the live session: 201 with the session openPacketIndex..last packet, 200 {session:null} if no packet arrived; 409 if none is open',
    response: session,
  },
  'GET /v1/streams/{id}/sessions/{sessionId}': { summary: 'Get a session', response: session },
  'DELETE /v1/streams/{id}/sessions/{sessionId}': { summary: 'Delete a session (204; 409 while a download or run uses it)' },
  'PUT /v1/streams/{id}/metadata/{packetIndex}': {
    summary: 'Upsert the metadata packet (a JSON object, <= 256 KiB) of a known packet: 201 new, 200 replaced; receivedAt kept',
    body: z.record(z.string(), z.unknown()),
    response: metadata,
  },
  'GET /v1/streams/{id}/metadata': { summary: 'Metadata packets of ?start&stop (required), paginated', response: page(metadata) },
  'GET /v1/streams/{id}/data': { summary: `Download packets ?start&stop (inclusive): ${DATA}` },

  [`GET ${MODE}`]: { summary: 'MODE: streams of a home and smart module, ?skip&limit (0 = no limit); unknown home or module 404', response: z.array(modeStream) },
  [`GET ${MODE}/{streamName}`]: { summary: 'MODE: a stream', response: modeStream },
  [`GET ${MODE}/{streamName}/status`]: { summary: 'MODE: stream status (openPacketIndex, streamOwner present only when set)', response: status },
  [`GET ${MODE}/{streamName}/sessions`]: { summary: 'MODE: sessions overlapping ?start&stop (required), ?skip&limit', response: z.array(session) },
  [`POST ${MODE}/{streamName}/sessions`]: { summary: 'MODE: add a session; invalid data is 403 as MODE documents', body: sessionInput(), response: session },
  [`GET ${MODE}/{streamName}/sessions/{sessionId}`]: { summary: 'MODE: a session', response: session },
  [`DELETE ${MODE}/{streamName}/sessions/{sessionId}`]: { summary: 'MODE: delete a session (204; 409 while in use)' },
  [`GET ${MODE}/{streamName}/metadata`]: { summary: 'MODE: metadata packets of ?start&stop, ?skip&limit', response: z.array(metadata) },
  [`GET ${MODE}/{streamName}/data`]: { summary: `MODE: fetch data packets ?start&stop: ${DATA}` },
};
