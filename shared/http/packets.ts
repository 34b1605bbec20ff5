import { decode } from '@msgpack/msgpack';
import * as z from 'zod/mini';
import { invalid, unsupportedMediaType } from '../model/errors.ts';
import { lazySchema, parseWith } from '../model/validation.ts';
import { MAX_PACKET_INDEX } from '../store/packets.ts';
import type { PacketInput } from '../services/packets.ts';

/**
 * HTTP parsing shared by the native and MODE faces of the data plane:
 * packet indexes in query strings and paths, and batch bodies.
 */

/** A packet index in a query or path: digits only ("", "-1", "1.5", "abc" are 400). */
export const packetIndexParam = /* @__PURE__ */ lazySchema(() => z.pipe(z.string().check(z.regex(/^\d{1,12}$/, 'must be a non-negative integer')), z.transform(Number)).check(z.refine((n) => n <= MAX_PACKET_INDEX, 'is too large')));

/** `?start&stop`, both required (MODE and the native range endpoints). */
export const rangeQuery = /* @__PURE__ */ lazySchema(() => z.object({ start: packetIndexParam(), stop: packetIndexParam() }));

/** MODE `?skip&limit` (limit 0 or absent = no limit). */
export const skipLimitQuery = /* @__PURE__ */ lazySchema(() =>
  z.object({
    skip: z._default(z.pipe(z.string().check(z.regex(/^\d+$/, 'must be a non-negative integer')), z.transform(Number)), 0),
    limit: z._default(z.pipe(z.string().check(z.regex(/^\d+$/, 'must be a non-negative integer')), z.transform(Number)), 0),
  }),
);

const jsonBatch = /* @__PURE__ */ lazySchema(() =>
  z.object({
    packets: z.array(
      z.object({
        data: z.string().check(z.regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64')),
        contentType: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
      }),
    ).check(z.minLength(1, 'at least one packet is required')),
  }),
);

const MSGPACK_TYPES = ['application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack'];

/** A batch body: a MessagePack array of byte strings, or JSON `{packets:[{data:"<base64>"}]}`. */
export function decodeBatch(contentType: string | undefined, raw: Buffer): PacketInput[] {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') {
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      throw invalid(`the body is not valid JSON: ${(error as Error).message}`);
    }
    const { packets } = parseWith(jsonBatch(), value, 'the body');
    return packets.map((packet) => ({ bytes: Buffer.from(packet.data, 'base64'), contentType: packet.contentType }));
  }
  if (MSGPACK_TYPES.includes(type)) {
    let value: unknown;
    try {
      value = decode(raw);
    } catch (error) {
      throw invalid(`the body is not valid MessagePack: ${(error as Error).message}`);
    }
    if (!Array.isArray(value) || value.length === 0) throw invalid('the body must be a non-empty MessagePack array of byte strings');
    return value.map((item, i) => {
      if (!(item instanceof Uint8Array)) {
        throw invalid(`packet ${i} is not a MessagePack byte string (bin)`, [{ path: `[${i}]`, message: 'expected bin' }]);
      }
      return { bytes: Buffer.from(item.buffer, item.byteOffset, item.byteLength) };
    });
  }
  throw unsupportedMediaType(`a batch is application/msgpack (an array of byte strings) or application/json ({packets:[{data}]}); got ${type || 'no Content-Type'}`);
}

/** The Idempotency-Key header, checked. */
export function idempotencyKeyOf(headers: Record<string, string | undefined>): string | undefined {
  const key = headers['idempotency-key'];
  if (key !== undefined && (key.length === 0 || key.length > 255)) {
    throw invalid('Idempotency-Key must be 1 to 255 characters', [{ path: 'Idempotency-Key', message: 'bad length' }]);
  }
  return key;
}
