import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { closeServer, listen, readJson, ServiceError, writeJson } from './json-server.ts';

/**
 * An EventBridge Scheduler endpoint (REST-JSON) for the operations Sluice
 * uses. Schedules persist under the data directory; the runs work adds firing.
 */
export interface Schedule {
  Name: string;
  GroupName: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  State?: string;
  Target: { Arn: string; RoleArn?: string; Input?: string };
  FlexibleTimeWindow?: { Mode: string };
  ActionAfterCompletion?: string;
  StartDate?: number;
  EndDate?: number;
}

export interface RunningScheduler {
  endpoint: string;
  schedules: Map<string, Schedule>;
  stop(): Promise<void>;
}

export async function startScheduler(options: { port: number; stateFile: string }): Promise<RunningScheduler> {
  const schedules = new Map<string, Schedule>(
    existsSync(options.stateFile) ? (JSON.parse(readFileSync(options.stateFile, 'utf8')) as Schedule[]).map((s) => [`${s.GroupName}/${s.Name}`, s]) : [],
  );
  const persist = () => {
    mkdirSync(dirname(options.stateFile), { recursive: true });
    writeFileSync(options.stateFile, JSON.stringify([...schedules.values()], null, 2));
  };
  const server = await listen(options.port, async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const match = /^\/schedules\/([^/]+)$/.exec(url.pathname);
    if (!match) throw new ServiceError('ResourceNotFoundException', `no such resource ${url.pathname}`, 404);
    const name = decodeURIComponent(match[1]);
    const group = url.searchParams.get('groupName') ?? 'default';
    const id = `${group}/${name}`;
    const arn = `arn:aws:scheduler:us-east-1:000000000000:schedule/${group}/${name}`;
    switch (req.method) {
      case 'POST': {
        if (schedules.has(id)) throw new ServiceError('ConflictException', `Schedule ${name} already exists.`, 409);
        schedules.set(id, { ...(await readJson(req)), Name: name, GroupName: group });
        persist();
        return writeJson(res, 200, { ScheduleArn: arn }, 'application/json');
      }
      case 'PUT': {
        if (!schedules.has(id)) throw new ServiceError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
        schedules.set(id, { ...(await readJson(req)), Name: name, GroupName: group });
        persist();
        return writeJson(res, 200, { ScheduleArn: arn }, 'application/json');
      }
      case 'GET': {
        const schedule = schedules.get(id);
        if (!schedule) throw new ServiceError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
        return writeJson(res, 200, { ...schedule, Arn: arn }, 'application/json');
      }
      case 'DELETE': {
        if (!schedules.delete(id)) throw new ServiceError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
        persist();
        return writeJson(res, 200, {}, 'application/json');
      }
      default:
        throw new ServiceError('ValidationException', `unsupported method ${req.method}`);
    }
  });
  return { endpoint: `http://127.0.0.1:${options.port}`, schedules, stop: () => closeServer(server) };
}
