import { Readable } from 'node:stream';
import { invalid } from '../model/errors.ts';
import type { UpdateMethod } from '../model/execution.ts';
import { csvRows, csvValidator, decodedPart, toCsv } from '../blobs/csv.ts';
import { readObject } from '../blobs/objects.ts';
import { uploadStream } from '../blobs/upload.ts';
import type { DatasetPointer, DatasetSchema } from '../store/datasets.ts';

/**
 * Assembles the next version of a dataset as one CSV object, streaming: the
 * previous version and the parts flow through csv-parse and csv-stringify
 * into a multipart upload, so memory stays bounded by the upload's buffers
 * (2 × 8 MiB in flight) plus, for UPSERT only, the set of distinct keys of
 * the incoming rows (docs/datasets.md "Memory").
 */
export interface PartSource {
  label: string;
  open(): Promise<Readable>;
  /** Validated on upload (inline parts): its bytes are forwarded without parsing when its column count fits. */
  validated?: { rows: number; columns: number | undefined };
}

export interface AssemblyInput {
  previous: DatasetPointer;
  parts: PartSource[];
  method: UpdateMethod;
  keyColumnNames?: string[];
  /** The stream's declared schema (Domo schemaDefinition), if any. */
  declaredSchema: DatasetSchema | null;
  objectKey: string;
}

export interface AssemblyResult {
  rows: number;
  bytes: number;
  schema: DatasetSchema | null;
}

const BATCH = 2000;

export const generatedSchema = (columns: number): DatasetSchema => ({
  columns: Array.from({ length: columns }, (_, i) => ({ name: `col${i + 1}`, type: 'STRING' })),
});

export async function assembleVersion(input: AssemblyInput): Promise<AssemblyResult> {
  const known = input.declaredSchema ?? input.previous.schema;
  let columns: number | undefined = known?.columns.length;
  let rows = 0;
  let bytes = 0;
  let batch: string[][] = [];
  const flush = (): Buffer => {
    const chunk = Buffer.from(toCsv(batch));
    rows += batch.length;
    bytes += chunk.length;
    batch = [];
    return chunk;
  };

  /** Every record of the parts in partId order; fixes the column count on the first record seen. */
  async function* partRecords(): AsyncGenerator<string[]> {
    for (const part of input.parts) {
      for await (const row of csvRows(await decodedPart(await part.open()), part.label, columns)) {
        columns ??= row.record.length;
        yield row.record;
      }
    }
  }

  const keyIndexes = (): number[] => {
    const names = (known ?? generatedSchema(columns ?? 0)).columns.map((c) => c.name);
    const keys = input.keyColumnNames ?? [];
    if (keys.length === 0) throw invalid('UPSERT needs keyColumnNames');
    return keys.map((name) => {
      const index = names.indexOf(name);
      if (index < 0) throw invalid(`key column ${name} is not a column of the dataset (${names.join(', ')})`);
      return index;
    });
  };
  const keyOf = (record: string[], indexes: number[]) => JSON.stringify(indexes.map((i) => record[i]));

  async function* body(): AsyncGenerator<Buffer> {
    const previousKey = input.previous.version > 0 ? input.previous.objectKey : undefined;
    if (input.method === 'APPEND' && previousKey) {
      // The previous version is our own canonical CSV: copied byte for byte, not re-parsed.
      for await (const chunk of await readObject(previousKey)) {
        bytes += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      rows += input.previous.rows;
    }
    if (input.method !== 'UPSERT') {
      // Parts are forwarded byte for byte (valid CSV stays valid CSV); a part
      // not validated on upload (a presigned one) is parsed on the way through.
      for (const part of input.parts) {
        const source = await decodedPart(await part.open());
        const trusted = part.validated && (part.validated.columns === undefined || columns === undefined || part.validated.columns === columns);
        const validator = trusted ? undefined : csvValidator(part.label, columns);
        let last = 0x0a;
        for await (const chunk of source) {
          const buffer = chunk as Buffer;
          if (buffer.length === 0) continue;
          await validator?.write(buffer);
          last = buffer[buffer.length - 1];
          bytes += buffer.length;
          yield buffer;
        }
        if (last !== 0x0a) {
          bytes += 1;
          yield Buffer.from('\n');
        }
        const checked = validator ? await validator.end() : part.validated!;
        columns ??= checked.columns;
        rows += checked.rows;
      }
      return;
    }
    // UPSERT: pass 1 finds the last occurrence of every incoming key ...
    const last = new Map<string, number>();
    let indexes: number[] | undefined;
    let ordinal = 0;
    for await (const record of partRecords()) {
      indexes ??= keyIndexes();
      last.set(keyOf(record, indexes), ordinal++);
    }
    // ... pass 2 keeps the previous rows whose key is not incoming ...
    if (previousKey) {
      for await (const row of csvRows(await readObject(previousKey), 'the previous version', columns)) {
        columns ??= row.record.length;
        indexes ??= keyIndexes();
        if (last.has(keyOf(row.record, indexes))) continue;
        batch.push(row.record);
        if (batch.length === BATCH) yield flush();
      }
    }
    // ... pass 3 adds the incoming rows, the last one of each key winning.
    ordinal = 0;
    for await (const record of partRecords()) {
      if (last.get(keyOf(record, indexes!)) === ordinal++) batch.push(record);
      if (batch.length === BATCH) yield flush();
    }
    if (batch.length) yield flush();
  }

  // The generator's own error (bad CSV, a missing part) is the reason, whatever the upload makes of it.
  let failure: unknown;
  async function* guarded(): AsyncGenerator<Buffer> {
    try {
      yield* body();
    } catch (error) {
      failure = error;
      throw error;
    }
  }
  try {
    await uploadStream(input.objectKey, Readable.from(guarded(), { objectMode: false }), 'text/csv');
  } catch (error) {
    throw failure ?? error;
  }
  const schema = known ?? (columns ? generatedSchema(columns) : null);
  return { rows, bytes, schema };
}
