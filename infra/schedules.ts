/**
 * Schedules the stack itself owns, as opposed to those the API arms for
 * streams and groups: CDK deploys each as an EventBridge Scheduler schedule
 * in the Sluice schedule group, targeting its handler's function; the local
 * runtime registers the same ones with its Scheduler when it starts.
 */
export interface OwnSchedule {
  /** Schedule name (never `sluice-{id}`, the names of stream and group schedules). */
  name: string;
  expression: string;
  /** Handler module under functions/ that the schedule invokes. */
  handler: string;
}

export const ownSchedules: OwnSchedule[] = [
  // Starts again the purges that did not start or did not finish (docs/architecture.md "Deleting a stream").
  { name: 'purge-sweep', expression: 'rate(1 hour)', handler: 'events/purge-sweep' },
];
