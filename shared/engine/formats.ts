import type { DataRecord, RecordFailure } from './types.ts';

/**
 * Decoding packet bytes into records for the http-collector's `format`.
 * A packet decodes to an ordered list of entries, each a record or a failure
 * (a line that is not JSON), so offsets can count entries within a packet and
 * a retried bundle skips exactly what was consumed.
 */
export type Format = 'ndjson' | 'csv' | 'json' | 'raw';

export type Entry = { record: DataRecord } | { failure: RecordFailure };

const excerpt = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

const asRecord = (value: unknown): DataRecord =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as DataRecord) : { value };

/** csv-parse is loaded by the first CSV packet, not by every bundle that runs a collector. */
const csvParser = () => import('csv-parse/sync').then((csv) => csv.parse);

export async function decodePacket(
  data: Buffer,
  format: Format,
  meta: { index: number; contentType?: string; columns?: string[] },
): Promise<Entry[]> {
  switch (format) {
    case 'ndjson': {
      const entries: Entry[] = [];
      for (const line of data.toString('utf8').split('\n')) {
        const text = line.trim();
        if (!text) continue;
        try {
          entries.push({ record: asRecord(JSON.parse(text)) });
        } catch (error) {
          entries.push({ failure: { message: `packet ${meta.index}: not JSON: ${(error as Error).message}`, record: excerpt(text) } });
        }
      }
      return entries;
    }
    case 'json': {
      const text = data.toString('utf8');
      try {
        const value = JSON.parse(text);
        return (Array.isArray(value) ? value : [value]).map((v) => ({ record: asRecord(v) }));
      } catch (error) {
        return [{ failure: { message: `packet ${meta.index}: not JSON: ${(error as Error).message}`, record: excerpt(text) } }];
      }
    }
    case 'csv': {
      const parseCsv = await csvParser();
      try {
        const rows = parseCsv(data, {
          columns: meta.columns ?? true,
          skip_empty_lines: true,
          relax_column_count: false,
          bom: true,
        }) as DataRecord[];
        return rows.map((record) => ({ record }));
      } catch (error) {
        return [{ failure: { message: `packet ${meta.index}: not CSV: ${(error as Error).message}` } }];
      }
    }
    case 'raw':
      return [
        {
          record: {
            packetIndex: meta.index,
            contentType: meta.contentType ?? 'application/octet-stream',
            size: data.length,
            data: data.toString('base64'),
          },
        },
      ];
  }
}
