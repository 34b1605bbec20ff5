import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { cancellationReasons, isConditionFailure } from './errors.ts';
import { retryTransactionConflicts } from './retry.ts';
import type { ConditionalUpdate } from './update.ts';

/**
 * Runs and group runs share one shape: a lifecycle item moved by conditional
 * updates, and a single "active run" slot on its parent item (a stream's
 * `activeRun`, a group's `activeGroupRun`) that is claimed, mirrored and
 * released in the same transaction.
 */
export type SlotAttribute = 'activeRun' | 'activeGroupRun';

type Key = Record<string, string>;

/** The slot is empty (absent or null). The expression needs `:null` bound to null. */
export const slotFree = (slot: SlotAttribute) => `(attribute_not_exists(${slot}) OR ${slot} = :null)`;



/** Claims the parent's empty slot for a run. */
export function slotClaim(parent: Key, slot: SlotAttribute, value: { id: string; status: string }) {
  return {
    TableName: tableName(),
    Key: parent,
    UpdateExpression: `SET ${slot} = :slot`,
    ConditionExpression: `attribute_exists(PK) AND ${slotFree(slot)}`,
    ExpressionAttributeValues: { ':slot': value, ':null': null },
  };
}

/** Mirrors a run's new status in the parent's slot, or releases it (`null`), only while the slot still holds that run. */
export function slotMirror(parent: Key, slot: SlotAttribute, runId: string, value: { id: string; status: string } | null) {
  return {
    TableName: tableName(),
    Key: parent,
    UpdateExpression: `SET ${slot} = :slot`,
    ConditionExpression: `${slot}.id = :runId`,
    ExpressionAttributeValues: { ':slot': value, ':runId': runId },
  };
}

/**
 * Writes a transition, in one transaction with the parent's slot update when
 * there is one. False when the item was not in a state the transition starts
 * from, or a claim found the slot taken (or the parent gone). When a mirror or
 * release finds the parent no longer holding this run (deleted, or a stale
 * mirror), the item's own transition still applies.
 */
export async function writeTransition(update: ConditionalUpdate, slot?: { update: ReturnType<typeof slotMirror | typeof slotClaim>; claim: boolean }): Promise<boolean> {
  try {
    if (!slot) await ddb.send(new UpdateCommand(update));
    else await retryTransactionConflicts(() => ddb.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, { Update: slot.update }] })));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    const reasons = cancellationReasons(error);
    if (reasons?.[0] === 'ConditionalCheckFailed') return false;
    if (slot && reasons?.[1] === 'ConditionalCheckFailed') return slot.claim ? false : writeTransition(update);
    throw error;
  }
}
