import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { RunConfigurationError } from '#shared/engine/errors.ts';
import { createS3Source } from '#shared/engine/nodes/s3-source.ts';

/** An in-memory bucket behind a mocked S3 client: ListObjectsV2 pages by StartAfter and MaxKeys as S3 does. */
const s3Mock = mockClient(S3Client);
let objects: Map<string, string>;

beforeEach(() => {
  s3Mock.reset();
  objects = new Map();
  s3Mock.on(ListObjectsV2Command).callsFake((input: { Prefix?: string; StartAfter?: string; ContinuationToken?: string; MaxKeys?: number }) => {
    // The token is the last key of the page before (S3's are opaque).
    const after = input.ContinuationToken ?? input.StartAfter;
    const keys = [...objects.keys()].filter((k) => k.startsWith(input.Prefix ?? '') && (after === undefined || Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = keys.slice(0, input.MaxKeys ?? 1000);
    const truncated = keys.length > page.length;
    return { Contents: page.map((Key) => ({ Key })), IsTruncated: truncated, NextContinuationToken: truncated ? page.at(-1) : undefined, KeyCount: page.length };
  });
  s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const bytes = Buffer.from(objects.get(input.Key)!);
    return { Body: { transformToByteArray: async () => new Uint8Array(bytes) } };
  });
});

const source = (listPageSize?: number) => createS3Source({ client: new S3Client({ region: 'us-east-1' }), bucket: 'b', prefix: 'in/', format: 'ndjson', listPageSize });
const lists = () => s3Mock.commandCalls(ListObjectsV2Command).length;

describe('s3-source listing', () => {
  it('lists once per page of keys, not once per object', async () => {
    for (let i = 0; i < 20; i++) objects.set(`in/${String(i).padStart(2, '0')}.ndjson`, `{"n":${i}}\n`);
    const batch = await source().read(undefined, 100);
    expect(batch.records.map((r) => r.n)).toEqual([...Array(20).keys()]);
    expect(batch.exhausted).toBe(true);
    expect(lists()).toBe(1);
  });

  it('walks pages of folder markers and objects in key order, and reads objects added after a page in the next read', async () => {
    for (let i = 0; i < 7; i++) objects.set(`in/a${i}/`, '');
    objects.set('in/b.ndjson', '{"n":1}\n{"n":2}\n');
    objects.set('in/c/', '');
    objects.set('in/d.ndjson', '{"n":3}\n');
    objects.set('out/e.ndjson', '{"n":99}\n');
    const reader = source(3);
    const first = await reader.read(undefined, 2);
    expect(first.records).toEqual([{ n: 1 }, { n: 2 }]);
    objects.set('in/e.ndjson', '{"n":4}\n');
    const second = await reader.read(first.offset, 10);
    expect(second.records).toEqual([{ n: 3 }, { n: 4 }]);
    expect(second.offset).toEqual({ key: 'in/e.ndjson', done: true });
    const third = await reader.read(second.offset, 10);
    expect(third).toMatchObject({ records: [], exhausted: true });
  });

  it('a batch run bounds itself by listing from where it starts, not from the start of the prefix', async () => {
    for (let i = 0; i < 9; i++) objects.set(`in/${i}.ndjson`, `{"n":${i}}\n`);
    expect(await source(3).bound!({ key: 'in/5.ndjson', done: true })).toEqual({ key: 'in/8.ndjson' });
    // One LIST, of the keys after the start (6, 7, 8), not of all nine.
    expect(s3Mock.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.StartAfter)).toEqual(['in/5.ndjson']);
    // Nothing after it: the bound is where it stands.
    expect(await source(3).bound!({ key: 'in/8.ndjson', done: true })).toEqual({ key: 'in/8.ndjson' });
    expect(await source(3).bound!()).toEqual({ key: 'in/8.ndjson' });
  });

  it('never reads a key outside its prefix, whatever the offset says', async () => {
    objects.set('other/secret.ndjson', '{"n":1}\n');
    await expect(source().read({ key: 'other/secret.ndjson', line: 0 }, 10)).rejects.toBeInstanceOf(RunConfigurationError);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});
