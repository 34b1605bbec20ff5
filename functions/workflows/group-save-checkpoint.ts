import { saveGroupCheckpoint } from '#shared/services/group-runs.ts';

/** The group.asl.json task of the same name (docs/groups.md); the logic lives in shared/services/group-runs.ts. */
export const handler = (event: Parameters<typeof saveGroupCheckpoint>[0]) => saveGroupCheckpoint(event);
