import type { Deployment, StreamRecord } from '../store/streams.ts';
import type { Definition } from '../model/definition.ts';

/**
 * THE call points where deploy and undeploy touch the outside world: this is
 * where a deployed tag's schedule (`definition.schedule`) gets armed in
 * EventBridge Scheduler and disarmed again. They are no-ops until the runs
 * feature fills them in.
 *
 * Contract for whoever fills them in:
 * - they run after the deployment was recorded on the stream (a conditional
 *   write), with the stream as it is now and the deployed tag's definition;
 * - they must be idempotent: a retried request (or a redeploy of the same or
 *   another tag) calls onDeployed again, and it must replace, not add, the
 *   stream's schedule; onUndeployed must tolerate a schedule that is gone;
 * - a throw surfaces to the caller as an error while the deployment stays
 *   recorded; the caller's retry (deploy is repeatable) arms it again.
 */
export async function onDeployed(_stream: StreamRecord & { deployment: Deployment }, _definition: Definition): Promise<void> {
  // Armed by the runs feature (issue 6).
}

export async function onUndeployed(_stream: StreamRecord & { deployment: Deployment }): Promise<void> {
  // Disarmed by the runs feature (issue 6).
}
