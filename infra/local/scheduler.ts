import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { closeServer, listen, readJson, ServiceError, writeJson } from './json-server.ts';

/**
 * An EventBridge Scheduler endpoint (REST-JSON) for the operations Sluice
 * uses (Create/Update/Get/DeleteSchedule). Schedules persist under the data
 * directory and FIRE on time: every enabled `cron(...)` or `rate(...)`
 * schedule invokes its target in-process (`fire`, the scheduled-run handler)
 * with the Target.Input, the `<aws.scheduler.*>` context attributes filled in,
 * like EventBridge Scheduler does. Delivery is at-least-once: a failed fire is
 * retried on the next ticks (up to 10 attempts), so targets must be idempotent
 * per scheduled time. Fires missed while the runtime was down are not replayed.
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

/** EventBridge cron (min hour day-of-month month day-of-week year, 1=SUN) to cron-parser's five fields (0=SUN) plus the year field. */
export function toCronParser(expression: string): { cron: string; year: string } {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) throw new ServiceError('ValidationException', `Invalid Schedule Expression cron(${expression})`);
  const [minute, hour, dom, month, dow, year] = fields.map((f) => (f === '?' ? '*' : f));
  const shiftedDow = dow.replace(/(?<!#)\d+/g, (n) => String((Number(n) + 6) % 7));
  return { cron: `${minute} ${hour} ${dom} ${month} ${shiftedDow}`, year };
}

function yearMatches(field: string, year: number): boolean {
  if (field === '*') return true;
  return field.split(',').some((part) => {
    const [range, step] = part.split('/');
    const [from, to] = range === '*' ? [0, 9999] : range.split('-').map(Number);
    const last = to ?? (step ? 9999 : from);
    return year >= from && year <= last && (year - from) % Number(step ?? 1) === 0;
  });
}

/** The first fire strictly after `after`, or undefined when the schedule has none left. */
export function nextFire(schedule: Schedule, after: Date): Date | undefined {
  const expression = schedule.ScheduleExpression.trim();
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const unit = rate[2].startsWith('minute') ? 60_000 : rate[2].startsWith('hour') ? 3_600_000 : 86_400_000;
    const every = Number(rate[1]) * unit;
    const origin = schedule.StartDate ? schedule.StartDate * 1000 : (schedule as { createdAt?: number }).createdAt ?? after.getTime();
    return new Date(origin + (Math.floor((after.getTime() - origin) / every) + 1) * every);
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) return undefined;
  const { cron: fields, year } = toCronParser(cron[1]);
  const iterator = CronExpressionParser.parse(fields, { currentDate: after, tz: schedule.ScheduleExpressionTimezone ?? 'UTC' });
  for (let i = 0; i < 1000; i++) {
    const next = iterator.next().toDate();
    if (schedule.EndDate && next.getTime() > schedule.EndDate * 1000) return undefined;
    if (yearMatches(year, next.getUTCFullYear())) return next;
  }
  return undefined;
}

const fillContext = (input: string, scheduledTime: Date, name: string, attempt: number) =>
  input
    .replaceAll('<aws.scheduler.scheduled-time>', scheduledTime.toISOString().replace(/\.\d{3}Z$/, 'Z'))
    .replaceAll('<aws.scheduler.execution-id>', `${name}-${scheduledTime.getTime()}`)
    .replaceAll('<aws.scheduler.attempt-number>', String(attempt))
    .replaceAll('<aws.scheduler.schedule-arn>', `arn:aws:scheduler:us-east-1:000000000000:schedule/default/${name}`);

export async function startScheduler(options: {
  port: number;
  stateFile: string;
  /** Delivers one fire to the schedule's target (the runtime maps its ARN to a handler module). */
  fire?: (target: Schedule['Target'], event: unknown) => Promise<unknown>;
  tickMs?: number;
  /** Schedules the stack owns (infra/schedules.ts): put on every start, as CDK deploys them. */
  own?: Schedule[];
}): Promise<RunningScheduler> {
  const schedules = new Map<string, Schedule>(
    existsSync(options.stateFile) ? (JSON.parse(readFileSync(options.stateFile, 'utf8')) as Schedule[]).map((s) => [`${s.GroupName}/${s.Name}`, s]) : [],
  );
  // The stack's own schedules are put on every start and never persisted, so one removed from infra/schedules.ts is gone.
  const own = new Set((options.own ?? []).map((schedule) => `${schedule.GroupName}/${schedule.Name}`));
  for (const schedule of options.own ?? []) schedules.set(`${schedule.GroupName}/${schedule.Name}`, schedule);
  const persist = () => {
    mkdirSync(dirname(options.stateFile), { recursive: true });
    writeFileSync(options.stateFile, JSON.stringify([...schedules].filter(([id]) => !own.has(id)).map(([, schedule]) => schedule), null, 2));
  };
  // Firing: the next fire per schedule, and fires awaiting (re)delivery.
  const upcoming = new Map<string, Date | undefined>();
  const inFlight = new Set<string>();
  const planned = (id: string, schedule: Schedule) => {
    if (!upcoming.has(id)) upcoming.set(id, nextFire(schedule, new Date()));
    return upcoming.get(id);
  };
  const deliver = async (id: string, schedule: Schedule, at: Date) => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      if (schedules.get(id) !== schedule) return; // deleted or replaced meanwhile
      try {
        let event: unknown = {};
        if (schedule.Target.Input) event = JSON.parse(fillContext(schedule.Target.Input, at, schedule.Name, attempt));
        await options.fire!(schedule.Target, event);
        return;
      } catch (error) {
        console.error(`schedule ${id}: fire at ${at.toISOString()} failed (attempt ${attempt}): ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * attempt, 5000)));
      }
    }
  };
  const tick = () => {
    const now = Date.now();
    for (const [id, schedule] of schedules) {
      if (schedule.State === 'DISABLED') continue;
      const at = planned(id, schedule);
      if (!at || at.getTime() > now) continue;
      upcoming.set(id, nextFire(schedule, at));
      const key = `${id}@${at.getTime()}`;
      if (inFlight.has(key)) continue;
      inFlight.add(key);
      void deliver(id, schedule, at).finally(() => inFlight.delete(key));
    }
  };
  const timer = options.fire ? setInterval(tick, options.tickMs ?? 500) : undefined;
  timer?.unref();

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
        const created = { ...(await readJson(req)), Name: name, GroupName: group, createdAt: Date.now() };
        validate(created);
        schedules.set(id, created);
        upcoming.delete(id);
        persist();
        return writeJson(res, 200, { ScheduleArn: arn }, 'application/json');
      }
      case 'PUT': {
        if (!schedules.has(id)) throw new ServiceError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
        const updated = { ...(await readJson(req)), Name: name, GroupName: group, createdAt: Date.now() };
        validate(updated);
        schedules.set(id, updated);
        upcoming.delete(id);
        persist();
        return writeJson(res, 200, { ScheduleArn: arn }, 'application/json');
      }
      case 'GET': {
        const schedule = schedules.get(id);
        if (!schedule) throw new ServiceError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
        return writeJson(res, 200, { ...schedule, Arn: arn }, 'application/json');
      }
      case 'DELETE': {
        upcoming.delete(id);
        if (!schedules.delete(id)) throw new ServiceError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
        persist();
        return writeJson(res, 200, {}, 'application/json');
      }
      default:
        throw new ServiceError('ValidationException', `unsupported method ${req.method}`);
    }
  });
  return {
    endpoint: `http://127.0.0.1:${options.port}`,
    schedules,
    stop: () => {
      if (timer) clearInterval(timer);
      return closeServer(server);
    },
  };
}

function validate(schedule: Schedule) {
  try {
    if (!/^(cron|rate|at)\(.*\)$/.test(schedule.ScheduleExpression ?? '')) throw new Error('unknown expression');
    if (schedule.ScheduleExpression.startsWith('cron(')) nextFire(schedule, new Date());
  } catch {
    throw new ServiceError('ValidationException', `Invalid Schedule Expression ${schedule.ScheduleExpression}.`);
  }
}
