import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { decodeBatch, packetIndexParam, rangeQuery, skipLimitQuery } from '#shared/http/packets.ts';
import { skipLimit } from '#shared/services/mode.ts';
import { SluiceError } from '#shared/model/errors.ts';

const statusOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as SluiceError).status;
  }
  return 200;
};

describe('batch bodies', () => {
  it('decodes a MessagePack array of byte strings and a JSON base64 batch to the same packets', () => {
    const bytes = [Buffer.from('a'), Buffer.from([0, 255])];
    const fromMsgpack = decodeBatch('application/msgpack', Buffer.from(encode(bytes)));
    const fromJson = decodeBatch('application/json; charset=utf-8', Buffer.from(JSON.stringify({ packets: bytes.map((b) => ({ data: b.toString('base64') })) })));
    expect(fromMsgpack.map((p) => [...p.bytes])).toEqual([[97], [0, 255]]);
    expect(fromJson.map((p) => [...p.bytes])).toEqual([[97], [0, 255]]);
  });

  it('refuses what is not a batch with 400, and other media types with 415', () => {
    expect(statusOf(() => decodeBatch('application/msgpack', Buffer.from(encode({ a: 1 }))))).toBe(400);
    expect(statusOf(() => decodeBatch('application/msgpack', Buffer.from(encode([1, 2]))))).toBe(400);
    expect(statusOf(() => decodeBatch('application/json', Buffer.from('{"packets":[{"data":"@@"}]}')))).toBe(400);
    expect(statusOf(() => decodeBatch('application/json', Buffer.from('not json')))).toBe(400);
    expect(statusOf(() => decodeBatch(undefined, Buffer.from('x')))).toBe(415);
  });
});

describe('index parameters', () => {
  it('accepts digits only', () => {
    expect(packetIndexParam().parse('42')).toBe(42);
    for (const bad of ['', '-1', '1.5', 'abc', '1e3', '9999999999999']) expect(packetIndexParam().safeParse(bad).success, bad).toBe(false);
    expect(rangeQuery().safeParse({ start: '1' }).success).toBe(false);
    expect(skipLimitQuery().parse({})).toEqual({ skip: 0, limit: 0 });
  });
});

describe('MODE skip/limit over cursor pages', () => {
  const pages = (n: number) => async (limit: number, cursor?: string) => {
    const from = cursor ? Number(cursor) : 0;
    const items = Array.from({ length: Math.max(0, Math.min(limit, n - from)) }, (_, i) => from + i);
    return { items, nextCursor: from + items.length < n ? String(from + items.length) : null };
  };
  it('skips, limits, and reads everything for limit 0', async () => {
    expect(await skipLimit(pages(1200), 0, 0)).toHaveLength(1200);
    expect(await skipLimit(pages(1200), 499, 3)).toEqual([499, 500, 501]);
    expect(await skipLimit(pages(10), 20, 5)).toEqual([]);
  });
});
