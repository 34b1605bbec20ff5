import type { Deployment, StreamRecord } from '../store/streams.ts';
import type { Definition } from '../model/definition.ts';
import { streamPurgeTarget } from '../model/purge.ts';
import { parseGroupTestHooks } from '../engine/test-hooks.ts';
import { startPurge } from '../workflows/purge.ts';
import { armSchedule, disarmSchedule } from './schedules.ts';

/**
 * THE call points where deploy and undeploy touch the outside world: this is
 * where a deployed tag's schedule (`definition.schedule`) gets armed in
 * EventBridge Scheduler and disarmed again (services/schedules.ts).
 *
 * Contract:
 * - they run after the deployment was recorded on the stream (a conditional
 *   write), with the stream as it is now and the deployed tag's definition;
 * - they are idempotent: a retried request (or a redeploy of the same or
 *   another tag) calls onDeployed again, and it replaces, not adds, the
 *   stream's schedule; onUndeployed tolerates a schedule that is gone;
 * - a throw surfaces to the caller as an error while the deployment stays
 *   recorded; the caller's retry (deploy is repeatable) arms it again.
 */
export async function onDeployed(stream: StreamRecord & { deployment: Deployment }, definition: Definition): Promise<void> {
  await armSchedule(stream, definition);
}

export async function onUndeployed(stream: StreamRecord & { deployment: Deployment }): Promise<void> {
  await disarmSchedule(stream.id);
}

/** After a stream is deleted: its schedule goes with it, and the purge of its partitions, objects and CDC slots starts. */
export async function onStreamDeleted(stream: StreamRecord): Promise<void> {
  await disarmSchedule(stream.id);
  await startPurge(streamPurgeTarget(stream), undefined, parseGroupTestHooks(stream.description ?? ''));
}
