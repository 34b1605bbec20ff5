import { isTransactionConflict } from './errors.ts';

/**
 * DynamoDB cancels a transaction that races another one on the same item
 * (TransactionConflict) and the SDK does not retry that. Retry it briefly;
 * the loser of a real race then sees the winner's write and fails its
 * condition, which the caller turns into a 409. Nine attempts in all.
 */
export async function retryTransactionConflicts<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isTransactionConflict(error)) throw error;
  }
  // Conflicts are rare, so p-retry is loaded only when one happens (cold start).
  const { default: pRetry, AbortError } = await import('p-retry');
  return pRetry(
    async () => {
      try {
        return await write();
      } catch (error) {
        if (isTransactionConflict(error)) throw error;
        throw new AbortError(error as Error);
      }
    },
    { retries: 7, minTimeout: 20, maxTimeout: 400, randomize: true },
  );
}
