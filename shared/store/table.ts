/**
 * The single table's shape, shared by the CDK stack and the local runtime so
 * both create exactly the same table.
 */
export const TABLE_KEYS = { partitionKey: 'PK', sortKey: 'SK' } as const;

export const GSIS = [
  // Listings: every collection a resource belongs to (a solution's streams, a stream's runs, ...).
  { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
  // Alias and secondary look-ups (Domo numbers, MODE names, DBConvert ids, ...).
  { indexName: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
] as const;

/** Epoch seconds; items carrying it are removed by DynamoDB TTL. */
export const TTL_ATTRIBUTE = 'expiresAt';
