import { startLocalRuntime } from './runtime.ts';

/** `npm start`: the whole service on this machine, no Docker, no AWS account. */
const runtime = await startLocalRuntime({
  port: Number(process.env.PORT ?? 8020),
  dataDir: process.env.SLUICE_DATA_DIR ?? '.sluice',
  apiKey: process.env.SLUICE_API_KEY,
  inMemory: process.env.SLUICE_IN_MEMORY === 'true',
}).catch((error: Error) => {
  console.error(`Sluice could not start: ${error.message}`);
  process.exit(1);
});

if (runtime.newAdminKey) {
  console.log(`Admin API key (shown once; set SLUICE_API_KEY to choose your own): ${runtime.newAdminKey}`);
}
console.log(`Sluice listening on ${runtime.url}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('Sluice stopping');
    runtime.stop().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
