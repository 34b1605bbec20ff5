import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parse as parseCsv } from 'csv-parse/sync';
import type { DataRecord, SourceBatch, SourceOffset, SourceReader } from '../types.ts';

/**
 * `s3-source`: the NDJSON or CSV objects under a prefix (of the Sluice bucket
 * or of an `s3` connection's bucket), in key order. Offset: `{key, line}` —
 * the object being read and how many of its entries (lines, CSV rows) were
 * consumed — or `{key, done: true}` once that object is consumed, so objects
 * added later with greater keys are read by the next bundle or run. A line
 * that is not JSON is reported as a failure and skipped.
 */
export interface S3SourceConfig {
  client: S3Client;
  bucket: string;
  prefix: string;
  format: 'ndjson' | 'csv';
}

export interface S3SourceOffset extends SourceOffset {
  key: string;
  line?: number;
  done?: boolean;
}

type Entry = { record: DataRecord; bytes: number } | { failure: { message: string; record?: string }; bytes: number };

export function createS3Source(config: S3SourceConfig): SourceReader & { read(offset: SourceOffset | undefined, max: number): Promise<SourceBatch & { failures?: { message: string; record?: string }[] }> } {
  let cached: { key: string; entries: Entry[] } | undefined;

  const entriesOf = async (key: string): Promise<Entry[]> => {
    if (cached?.key === key) return cached.entries;
    const object = await config.client.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
    const text = await object.Body!.transformToString('utf8');
    const entries: Entry[] = [];
    if (config.format === 'csv') {
      try {
        for (const record of parseCsv(text, { columns: true, skip_empty_lines: true, bom: true }) as DataRecord[]) {
          entries.push({ record, bytes: Buffer.byteLength(JSON.stringify(record)) });
        }
      } catch (error) {
        entries.push({ failure: { message: `${key}: not CSV: ${(error as Error).message}` }, bytes: 0 });
      }
    } else {
      let n = 0;
      for (const line of text.split('\n')) {
        n++;
        const trimmed = line.trim();
        if (!trimmed) continue;
        try {
          const value = JSON.parse(trimmed);
          const record = value !== null && typeof value === 'object' && !Array.isArray(value) ? value : { value };
          entries.push({ record, bytes: Buffer.byteLength(line) });
        } catch (error) {
          entries.push({ failure: { message: `${key} line ${n}: not JSON: ${(error as Error).message}`, record: trimmed.slice(0, 200) }, bytes: Buffer.byteLength(line) });
        }
      }
    }
    cached = { key, entries };
    return entries;
  };

  const nextKey = async (after: string | undefined): Promise<string | undefined> => {
    const listed = await config.client.send(
      new ListObjectsV2Command({ Bucket: config.bucket, Prefix: config.prefix, StartAfter: after, MaxKeys: 10 }),
    );
    return listed.Contents?.map((o) => o.Key!).find((k) => !k.endsWith('/'));
  };

  return {
    async read(offset, max) {
      let position = offset as S3SourceOffset | undefined;
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
          if (!key) return { records, failures, offset: position ?? {}, bytes, exhausted: true };
        }
        const entries = await entriesOf(key);
        const take = entries.slice(line, line + (max - records.length - failures.length));
        for (const entry of take) {
          bytes += entry.bytes;
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
