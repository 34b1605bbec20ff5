import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { invalid, tooLarge } from '../model/errors.ts';

/** A gzipped inline part may not expand beyond this (a zip bomb is refused with 413). */
export const MAX_INFLATED_PART = 256 * 1024 * 1024;

/** Parts may end lines with LF or CRLF, each its own way; both end a record (a forwarded part keeps its own). */
const RECORD_DELIMITERS = ['\r\n', '\n'];

const isGzip = (chunk: Buffer) => chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b;

/** Inflates an inline gzip body; 400 when it is not gzip, 413 when it expands too far. */
export function gunzipPart(body: Buffer): Buffer {
  if (!isGzip(body)) throw invalid('the part is declared gzip but is not gzip data');
  try {
    return gunzipSync(body, { maxOutputLength: MAX_INFLATED_PART });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(`the part inflates beyond ${MAX_INFLATED_PART} bytes`);
    throw invalid(`the part is not valid gzip data: ${(error as Error).message}`);
  }
}

/** A stored part's bytes, inflated when they are gzip (sniffed from the magic bytes, so presigned uploads may be either). */
export async function decodedPart(body: Readable): Promise<Readable> {
  const iterator = body[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return Readable.from([]);
  const head = Buffer.from(first.value as Buffer);
  const rest = Readable.from(
    (async function* () {
      yield head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value as Buffer;
    })(),
  );
  if (!isGzip(head)) return rest;
  const gunzip = createGunzip();
  pipeline(rest, gunzip).catch((error) => gunzip.destroy(error));
  return gunzip;
}

export interface CsvRow {
  record: string[];
  /** 1-based line of the record's end in its file. */
  line: number;
  /** Bytes of the file consumed up to the end of this record. */
  bytes: number;
}

/**
 * The records of a headerless CSV stream. Malformed CSV and a column count
 * other than `columns` (when known; else the first record's) fail with a 400
 * that names `label` and the line.
 */
export async function* csvRows(source: Readable, label: string, columns?: number): AsyncGenerator<CsvRow> {
  const parser = parse({ relax_column_count: true, skip_empty_lines: true, info: true, record_delimiter: RECORD_DELIMITERS });
  pipeline(source, parser).catch((error) => parser.destroy(error));
  let expected = columns;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
      expected ??= record.length;
      if (record.length !== expected) {
        throw invalid(`${label}, line ${info.lines}: expected ${expected} columns, found ${record.length}`, [
          { path: `${label}:${info.lines}`, message: `expected ${expected} columns, found ${record.length}` },
        ]);
      }
      yield { record, line: info.lines, bytes: info.bytes };
    }
  } catch (error) {
    throw asInvalid(error, label);
  } finally {
    parser.destroy();
  }
}

/** Validates a whole inline part; answers its row and column counts. */
export async function validateCsv(body: Buffer, label: string, columns?: number): Promise<{ rows: number; columns: number | undefined }> {
  let rows = 0;
  let found = columns;
  for await (const row of csvRows(Readable.from([body]), label, columns)) {
    rows++;
    found ??= row.record.length;
  }
  return { rows, columns: found };
}

/** A csv-parse error (or a stream error) as the 400 that names the part and line. */
function asInvalid(error: unknown, label: string): Error {
  const csvError = error as { code?: string; lines?: number; message: string };
  if (csvError.code?.startsWith('CSV_') || csvError.code?.startsWith('INVALID_')) {
    return invalid(`${label}, line ${csvError.lines ?? '?'}: ${csvError.message}`, [{ path: `${label}:${csvError.lines ?? '?'}`, message: csvError.message }]);
  }
  if (csvError.code === 'Z_DATA_ERROR') return invalid(`${label}: not valid gzip data`);
  return error as Error;
}

/**
 * Validates CSV bytes pushed through `write` without keeping them: the
 * commit forwards a part's bytes unchanged and only checks them on the way
 * (csv-parse, record events; no per-record promise, no re-stringify).
 */
export function csvValidator(label: string, columns?: number) {
  const parser = parse({ relax_column_count: true, skip_empty_lines: true, record_delimiter: RECORD_DELIMITERS });
  let rows = 0;
  let expected = columns;
  let failure: Error | undefined;
  parser.on('data', (record: string[]) => {
    if (failure) return;
    expected ??= record.length;
    if (record.length !== expected) {
      const line = parser.info.lines;
      failure = invalid(`${label}, line ${line}: expected ${expected} columns, found ${record.length}`, [
        { path: `${label}:${line}`, message: `expected ${expected} columns, found ${record.length}` },
      ]);
      return;
    }
    rows++;
  });
  const finished = new Promise<void>((resolve) => {
    parser.on('end', resolve);
    parser.on('close', resolve);
    parser.on('error', (error) => {
      failure ??= asInvalid(error, label);
      resolve();
    });
  });
  return {
    async write(chunk: Buffer): Promise<void> {
      if (failure) throw failure;
      // Respect backpressure so a fast source never piles up in the parser's buffer.
      if (!parser.write(chunk)) await new Promise<void>((resolve) => { parser.once('drain', resolve); parser.once('close', resolve); });
      if (failure) throw failure;
    },
    async end(): Promise<{ rows: number; columns: number | undefined }> {
      if (failure) throw failure;
      parser.end();
      await finished;
      if (failure) throw failure;
      return { rows, columns: expected };
    },
  };
}

export const toCsv = (records: unknown[][]): string => stringify(records);
