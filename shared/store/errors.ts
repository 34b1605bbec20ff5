/** Recognise DynamoDB's condition failures, alone or inside a transaction. */
export function isConditionFailure(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'ConditionalCheckFailedException';
}

/**
 * The per-item cancellation reasons of a cancelled transaction, in the order
 * of its items ('None' where that item was fine).
 */
export function cancellationReasons(error: unknown): string[] | undefined {
  const e = error as { name?: string; CancellationReasons?: { Code?: string }[] };
  if (e?.name !== 'TransactionCanceledException') return undefined;
  return (e.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
}

export function isTransactionConflict(error: unknown): boolean {
  const reasons = cancellationReasons(error);
  return reasons?.includes('TransactionConflict') ?? false;
}
