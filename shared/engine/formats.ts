import type { Info } from 'csv-parse/sync';
import type { DataRecord, RecordFailure } from './types.ts';

/**
 * Decoding bytes into records: the http-collector's packets per its `format`,
 * and the s3-source's objects (ndjson, csv). The bytes decode to an ordered
 * list of entries, each a record or a failure (a line that is not JSON, a CSV
 * that does not parse), so offsets can count entries within a packet or an
 * object and a retried bundle skips exactly what was consumed.
 */
export type Format = 'ndjson' | 'csv' | 'json' | 'raw';

/** `bytes` only when asked for with `sizes`. */
export type Entry = ({ record: DataRecord } | { failure: RecordFailure }) & { bytes?: number };

export interface DecodeMeta {
  /** The packet's index: raw records carry it, failures name `packet {index}`. */
  index?: number;
  contentType?: string;
  /** Column names of a CSV without a header row. */
  columns?: string[];
  /** What failures name instead of the packet (an S3 object's key); NDJSON failures add the line number. */
  name?: string;
  /**
   * NDJSON and CSV: every entry carries its raw `bytes` (an NDJSON line with its line
   * end and the blank lines before it; a CSV row, the first with the header before
   * it; the last entry also what follows it), so the entries add up to the object's
   * length; a CSV that does not parse is one failure of that length.
   */
  sizes?: boolean;
}

const excerpt = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

const asRecord = (value: unknown): DataRecord =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as DataRecord) : { value };

/** csv-parse is loaded by the first CSV packet or object, not by every bundle that runs a collector. */
const csvParser = () => import('csv-parse/sync').then((csv) => csv.parse);

export async function decodePacket(data: Buffer, format: Format, meta: DecodeMeta): Promise<Entry[]> {
  const where = meta.name ?? `packet ${meta.index}`;
  switch (format) {
    case 'ndjson': {
      const entries: Entry[] = [];
      const lines = data.toString('utf8').split('\n');
      let number = 0;
      // With sizes, an entry counts its line and line end, and the blank lines before it
      // (the last entry those after it), so an object's entries add up to its length.
      let blank = 0;
      for (const line of lines) {
        number++;
        const text = line.trim();
        // Sizes only when asked for: packets (the hot path) do not need them.
        const bytes = meta.sizes ? Buffer.byteLength(line) + (number < lines.length ? 1 : 0) : 0;
        if (!text) {
          blank += bytes;
          continue;
        }
        const size = meta.sizes ? { bytes: blank + bytes } : {};
        blank = 0;
        try {
          entries.push({ record: asRecord(JSON.parse(text)), ...size });
        } catch (error) {
          const at = meta.name ? `${where} line ${number}` : where;
          entries.push({ failure: { message: `${at}: not JSON: ${(error as Error).message}`, record: excerpt(text) }, ...size });
        }
      }
      const last = entries.at(-1);
      if (meta.sizes && last) last.bytes! += blank;
      return entries;
    }
    case 'json': {
      const text = data.toString('utf8');
      try {
        const value = JSON.parse(text);
        return (Array.isArray(value) ? value : [value]).map((v) => ({ record: asRecord(v) }));
      } catch (error) {
        return [{ failure: { message: `${where}: not JSON: ${(error as Error).message}`, record: excerpt(text) } }];
      }
    }
    case 'csv': {
      const parseCsv = await csvParser();
      try {
        // `info.bytes`: how far into the data (BOM and header included) the parser was when it emitted the row.
        const rows = parseCsv<{ record: DataRecord; info: Info }>(data, {
          columns: meta.columns ?? true,
          skip_empty_lines: true,
          relax_column_count: false,
          bom: true,
          info: true,
        });
        let end = 0;
        return rows.map(({ record, info }, i) => {
          const size = meta.sizes ? { bytes: (i === rows.length - 1 ? data.length : info.bytes) - end } : {};
          end = info.bytes;
          return { record, ...size };
        });
      } catch (error) {
        return [{ failure: { message: `${where}: not CSV: ${(error as Error).message}` }, ...(meta.sizes ? { bytes: data.length } : {}) }];
      }
    }
    case 'raw':
      return [
        {
          record: {
            packetIndex: meta.index ?? 0,
            contentType: meta.contentType ?? 'application/octet-stream',
            size: data.length,
            data: data.toString('base64'),
          },
        },
      ];
  }
}
