/**
 * Child process of packets.bench.ts: builds one bundle and reports its time
 * and memory, so the figure is this build's alone (not the local runtime's,
 * whose emulators share the bench process). Args: streamId name first last key.
 */
const [streamId, name, first, last, key] = process.argv.slice(2);
const { buildBundle } = await import('#shared/blobs/packets.ts');
const { iteratePacketEntries } = await import('#shared/store/packets.ts');
const MiB = 1024 * 1024;
const baseline = process.memoryUsage().rss;
let peak = baseline;
let peakLive = 0;
const gc = (globalThis as { gc?: () => void }).gc;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
  // With --expose-gc: what the build really holds (heap + buffers) after a collection.
  if (gc) {
    gc();
    const m = process.memoryUsage();
    peakLive = Math.max(peakLive, m.heapUsed + m.arrayBuffers);
  }
}, gc ? 50 : 5);
const started = performance.now();
const built = await buildBundle(key, name, iteratePacketEntries(streamId, Number(first), Number(last)));
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
process.stdout.write(JSON.stringify({ ...built, seconds, baselineRssMiB: baseline / MiB, peakRssMiB: peak / MiB, peakLiveMiB: peakLive / MiB }));
process.exit(0); // the SDK's keep-alive sockets would hold the process open
