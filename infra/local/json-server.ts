import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export class ServiceError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

export async function readJson(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

export function writeJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/x-amz-json-1.0') {
  res.writeHead(status, { 'content-type': contentType });
  res.end(JSON.stringify(body ?? {}));
}

export async function listen(port: number, handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<Server> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      const e = error instanceof ServiceError ? error : new ServiceError('InternalFailure', String((error as Error)?.message ?? error), 500);
      if (!(error instanceof ServiceError)) console.error(error);
      res.setHeader('x-amzn-errortype', e.type);
      writeJson(res, e.status, { __type: e.type, message: e.message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

export const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
