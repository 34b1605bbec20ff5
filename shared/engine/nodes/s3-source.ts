import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { decodePacket, type Entry } from '../formats.ts';
import { RunConfigurationError } from '../errors.ts';
import type { BoundedSourceReader, DataRecord, SourceOffset } from '../types.ts';

/**
 * `s3-source`: the NDJSON or CSV objects under a prefix (of the Sluice bucket
 * or of an `s3` connection's bucket), in key order. Offset: `{key, line}` —
 * the object being read and how many of its entries (lines, CSV rows) were
 * consumed — or `{key, done: true}` once that object is consumed, so objects
 * added later with greater keys are read by the next bundle or run. Objects
 * decode like packets (shared/engine/formats.ts): a line that is not JSON is
 * a failure and skipped, a CSV object that does not parse is one failure.
 * Failures name the key (and the NDJSON line).
 *
 * A batch run reads what is there when it starts: its bound is the last key
 * listed then, and objects added later with greater keys are left for the
 * next run (an object added meanwhile with a smaller key is read only if the
 * run has not passed it: the offset never moves back).
 */
export interface S3SourceConfig {
  client: S3Client;
  bucket: string;
  prefix: string;
  format: 'ndjson' | 'csv';
  /** Keys per LIST (S3's largest page is 1,000); tests use small pages. */
  listPageSize?: number;
}

export interface S3SourceOffset extends SourceOffset {
  key: string;
  line?: number;
  done?: boolean;
}

/** S3's key order: UTF-8 bytes (not JavaScript's UTF-16 code units). */
const compareKeys = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export function createS3Source(config: S3SourceConfig): BoundedSourceReader {
  let cached: { key: string; entries: Entry[] } | undefined;

  const entriesOf = async (key: string): Promise<Entry[]> => {
    if (cached?.key === key) return cached.entries;
    const object = await inContext(`bucket ${config.bucket} key ${key}`, config.client.send(new GetObjectCommand({ Bucket: config.bucket, Key: key })));
    const entries = await decodePacket(Buffer.from(await object.Body!.transformToByteArray()), config.format, { name: key, sizes: true });
    cached = { key, entries };
    return entries;
  };

  /**
   * The objects after a key, for one read: a LIST answers a page of keys, and the read
   * walks that page before asking for the next, so a bundle of many small objects costs
   * one LIST per page rather than one per object. A new page is asked for only past the
   * end of a truncated one; objects added since the page was listed are met by the next
   * read. Folder markers (`dir/` keys) are skipped, however many pages of them.
   */
  const objectsAfter = () => {
    let page: { keys: string[]; last: string | undefined; truncated: boolean } | undefined;
    return async (after: string | undefined): Promise<string | undefined> => {
      for (;;) {
        const key = page?.keys.find((k) => after === undefined || compareKeys(k, after) > 0);
        if (key) return key;
        if (page && !page.truncated) return undefined;
        const from = page?.last !== undefined && (after === undefined || compareKeys(page.last, after) > 0) ? page.last : after;
        const listed = await inContext(
          `bucket ${config.bucket}`,
          config.client.send(new ListObjectsV2Command({ Bucket: config.bucket, Prefix: config.prefix, StartAfter: from, MaxKeys: config.listPageSize ?? 1000 })),
        );
        const keys = listed.Contents?.map((o) => o.Key!) ?? [];
        page = { keys: keys.filter((k) => !k.endsWith('/')), last: keys.at(-1), truncated: Boolean(listed.IsTruncated) && keys.length > 0 };
      }
    };
  };

  return {
    /** The last key there now, listed from where the run starts: a run does not list again what earlier runs read. */
    async bound(from) {
      const start = (from as S3SourceOffset | undefined)?.key;
      let last = start ?? '';
      let token: string | undefined;
      do {
        const page = await inContext(
          `bucket ${config.bucket}`,
          config.client.send(new ListObjectsV2Command({ Bucket: config.bucket, Prefix: config.prefix, StartAfter: token ? undefined : start, ContinuationToken: token })),
        );
        for (const object of page.Contents ?? []) if (!object.Key!.endsWith('/')) last = object.Key!;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return { key: last } satisfies S3SourceOffset;
    },

    async read(offset, max, until) {
      const bound = (until as S3SourceOffset | null | undefined)?.key;
      let position = offset as S3SourceOffset | undefined;
      // Offsets set by hand are checked when set (shared/services/run-overview.ts); this keeps any other out too.
      if (position?.key && !position.key.startsWith(config.prefix)) {
        throw new RunConfigurationError(`the offset's key ${JSON.stringify(position.key)} is not under this source's prefix ${JSON.stringify(config.prefix)}`);
      }
      const nextKey = objectsAfter();
      const records: DataRecord[] = [];
      const failures: { message: string; record?: string }[] = [];
      let bytes = 0;
      while (records.length + failures.length < max) {
        let key: string | undefined;
        let line = 0;
        if (position && !position.done) {
          key = position.key;
          line = position.line ?? 0;
        } else {
          key = await nextKey(position?.key);
          if (key !== undefined && bound !== undefined && compareKeys(key, bound) > 0) key = undefined;
          if (!key) return { records, failures, offset: position ?? {}, bytes, exhausted: true };
        }
        const entries = await entriesOf(key);
        const take = entries.slice(line, line + (max - records.length - failures.length));
        for (const entry of take) {
          bytes += entry.bytes!;
          if ('record' in entry) records.push(entry.record);
          else failures.push(entry.failure);
        }
        line += take.length;
        position = line >= entries.length ? { key, done: true } : { key, line };
      }
      return { records, failures, offset: position ?? {}, bytes, exhausted: false };
    },
  };
}

/**
 * S3 errors name neither the bucket nor the key: prefix them. The error itself
 * is kept, since its name and status decide whether the bundle is retried.
 */
async function inContext<T>(what: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof Error) error.message = `${what}: ${error.message}`;
    throw error;
  }
}
