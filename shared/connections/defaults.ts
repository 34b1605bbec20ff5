/** Default server ports by connection type (no driver imports: cheap for every handler). */
export const DEFAULT_PORT = { postgresql: 5432, mysql: 3306, s3: 443 } as const;
