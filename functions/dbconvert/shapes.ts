import type { ConnectionRecord } from '#shared/store/connections.ts';
import { unix } from '#shared/services/dbconvert.ts';

/** A DBConvert connection object: never the password. */
export const connectionJson = (c: ConnectionRecord) => ({
  id: c.id,
  name: c.name,
  type: c.type,
  host: c.host,
  port: c.port,
  username: c.username,
  database: c.database,
  created: unix(c.createdAt),
});
