import * as z from 'zod/mini';
import { lazySchema } from './validation.ts';

/**
 * The Domo `schedule` object: `cron` in Quartz style (seconds minutes hours
 * day-of-month month day-of-week [year]), `expression` as an ISO 8601
 * repeating interval (`R[n]/start/duration`, `R[n]/start/end`,
 * `R[n]/duration/end`, `R[n]/duration`), `start` and `end`. Validated here,
 * stored and shown back exactly as sent.
 */
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Forms only this field knows (?, L, W, #). */
  special?: RegExp;
}

const QUARTZ_FIELDS: CronField[] = [
  { name: 'seconds', min: 0, max: 59 },
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, special: /^(\?|L(-([0-9]|[12][0-9]|30))?|LW|([1-9]|[12][0-9]|3[01])W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, special: /^(\?|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)?L|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5])$/i },
  { name: 'year', min: 1970, max: 2199 },
];

function fieldValue(value: string, field: CronField): number | undefined {
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    return n >= field.min && n <= field.max ? n : undefined;
  }
  const index = field.names?.indexOf(value.toUpperCase()) ?? -1;
  return index >= 0 ? index + field.min : undefined;
}

function fieldProblem(value: string, field: CronField): string | undefined {
  if (field.special?.test(value)) return undefined;
  for (const item of value.split(',')) {
    const [base, step, extra] = item.split('/');
    if (extra !== undefined || base === '') return `${field.name} has a malformed item ${item}`;
    if (step !== undefined && !(/^\d+$/.test(step) && Number(step) >= 1)) return `${field.name} has a bad step in ${item}`;
    if (base === '*') continue;
    const [from, to, more] = base.split('-');
    if (more !== undefined) return `${field.name} has a malformed range ${base}`;
    if (fieldValue(from, field) === undefined || (to !== undefined && fieldValue(to, field) === undefined)) {
      return `${field.name} value ${base} is outside ${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : ''}`;
    }
  }
  return undefined;
}

/** Why a Quartz cron expression is invalid, or undefined when it is valid. */
export function quartzCronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length < 6 || fields.length > 7) return `cron has ${fields.length} fields; Quartz cron has 6 or 7 (seconds minutes hours day-of-month month day-of-week [year])`;
  for (let i = 0; i < fields.length; i++) {
    const problem = fieldProblem(fields[i], QUARTZ_FIELDS[i]);
    if (problem) return problem;
  }
  if ((fields[3] === '?') === (fields[5] === '?')) return 'exactly one of day-of-month and day-of-week must be ?';
  return undefined;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

export const isDateTime = (value: string) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));

/** Why an ISO 8601 repeating interval is invalid, or undefined. */
export function repeatingIntervalProblem(expression: string): string | undefined {
  const [repeat, first, second, extra] = expression.split('/');
  if (!/^R\d*$/.test(repeat ?? '')) return 'expression must start with R or Rn (an ISO 8601 repeating interval)';
  if (extra !== undefined || first === undefined) return 'expression is R[n]/start/duration, R[n]/start/end, R[n]/duration/end or R[n]/duration';
  const isDuration = (v: string) => DURATION.test(v);
  const ok =
    second === undefined
      ? isDuration(first)
      : (isDateTime(first) && (isDuration(second) || isDateTime(second))) || (isDuration(first) && isDateTime(second));
  if (!ok) return `expression ${expression} is not an ISO 8601 repeating interval`;
  if (second !== undefined && isDateTime(first) && isDateTime(second) && Date.parse(second) <= Date.parse(first)) return 'expression ends before it starts';
  return undefined;
}

export const domoSchedule = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({
  cron: z.optional(z.string()),
  expression: z.optional(z.string()),
  start: z.optional(z.string()),
  end: z.optional(z.string()),
}).check(z.superRefine((schedule, ctx) => {
  if (!schedule.cron && !schedule.expression) ctx.addIssue({ code: 'custom', message: 'a schedule needs cron or expression', path: [] });
  const cron = schedule.cron ? quartzCronProblem(schedule.cron) : undefined;
  if (cron) ctx.addIssue({ code: 'custom', message: cron, path: ['cron'] });
  const expression = schedule.expression ? repeatingIntervalProblem(schedule.expression) : undefined;
  if (expression) ctx.addIssue({ code: 'custom', message: expression, path: ['expression'] });
  for (const field of ['start', 'end'] as const) {
    const value = schedule[field];
    if (value !== undefined && !isDateTime(value)) ctx.addIssue({ code: 'custom', message: `${field} is not an ISO 8601 date-time`, path: [field] });
  }
  if (schedule.start && schedule.end && isDateTime(schedule.start) && isDateTime(schedule.end) && Date.parse(schedule.end) < Date.parse(schedule.start)) {
    ctx.addIssue({ code: 'custom', message: 'end is before start', path: ['end'] });
  }
})));
export type DomoSchedule = z.output<ReturnType<typeof domoSchedule>>;

/**
 * The hook for arming a Domo schedule: its Quartz cron as the six-field
 * EventBridge Scheduler cron the native definition's `schedule.cron` uses
 * (seconds dropped, year `*` when absent). Undefined when the schedule has
 * no cron or fires on seconds other than 0 (not expressible in EventBridge).
 */
export function schedulerCronOf(schedule: DomoSchedule | null | undefined): string | undefined {
  if (!schedule?.cron || quartzCronProblem(schedule.cron)) return undefined;
  const [seconds, ...rest] = schedule.cron.trim().split(/\s+/);
  if (seconds !== '0') return undefined;
  return [...rest.slice(0, 5), rest[5] ?? '*'].join(' ');
}
