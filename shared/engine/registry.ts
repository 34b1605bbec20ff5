import type { SinkFactory, SourceFactory } from './types.ts';

/**
 * Node implementations by type. Built-in nodes register in nodes.ts; other
 * modules (table-source, table-sink, s3-source) register theirs the same way
 * and are imported from nodes.ts, so the engine itself never changes.
 */
const sources = new Map<string, SourceFactory>();
const sinks = new Map<string, SinkFactory>();

export function registerSource(type: string, factory: SourceFactory): void {
  sources.set(type, factory);
}

export function registerSink(type: string, factory: SinkFactory): void {
  sinks.set(type, factory);
}

export const sourceFactory = (type: string) => sources.get(type);
export const sinkFactory = (type: string) => sinks.get(type);
