import { describe, expect, it } from 'vitest';
import { assertTransition, EXECUTION_TRANSITIONS, transitionWrite } from '#shared/model/execution.ts';
import { quartzCronProblem, repeatingIntervalProblem, schedulerCronOf } from '#shared/model/schedule.ts';

describe('the execution lifecycle table', () => {
  it('lets every ending follow ACTIVE only', () => {
    for (const [action, rule] of Object.entries(EXECUTION_TRANSITIONS)) expect(rule.from, action).toBe('ACTIVE');
    expect(() => assertTransition({ state: 'SUCCESS' }, 'edit', 'execution 1')).toThrow(/SUCCESS/);
    expect(() => assertTransition({ state: 'ABORTED' }, 'claimCommit', 'execution 1')).toThrow(/ABORTED/);
    expect(() => assertTransition({ state: 'ACTIVE', commitToken: 't', commitExpiresAt: Date.now() / 1000 + 60 }, 'abort', 'execution 1')).toThrow(
      /being committed/,
    );
    expect(() => assertTransition({ state: 'ACTIVE', commitToken: 't', commitExpiresAt: 1 }, 'abort', 'execution 1')).not.toThrow();
  });

  it('derives each conditional write from the table', () => {
    const commit = transitionWrite('commit', { token: 'tok', now: 'now', nowSeconds: 5 });
    expect(commit.condition).toBe('#state = :from AND commitToken = :token');
    expect(commit.update).toContain('REMOVE commitToken, commitExpiresAt');
    expect(commit.values).toMatchObject({ ':from': 'ACTIVE', ':to': 'SUCCESS', ':token': 'tok' });
    const claim = transitionWrite('claimCommit', { token: 'tok', now: 'now', nowSeconds: 5 });
    expect(claim.condition).toContain('attribute_not_exists(commitToken)');
    expect(claim.values[':expires']).toBe(5 + 15 * 60);
  });
});

describe('Domo schedules', () => {
  it.each(['0 29 2 * * ? *', '0 0/15 * ? * MON-FRI', '30 0 12 1,15 * ?', '0 0 0 L * ? 2030', '0 0 8 ? * 2#1'])('accepts Quartz cron %s', (cron) => {
    expect(quartzCronProblem(cron)).toBeUndefined();
  });
  it.each(['0 29 2 * *', '0 60 * * * ?', '0 0 24 * * ?', '0 0 1 * * MON', '0 0 1 ? * ?', 'a b c d e f', '0 0 1 32 * ?'])('refuses cron %s', (cron) => {
    expect(quartzCronProblem(cron)).toBeTruthy();
  });
  it('validates ISO 8601 repeating intervals', () => {
    expect(repeatingIntervalProblem('R/2015-03-01T13:00:00Z/P1Y2M10DT2H30M')).toBeUndefined();
    expect(repeatingIntervalProblem('R5/PT1H')).toBeUndefined();
    expect(repeatingIntervalProblem('R/P1D/2016-01-01T00:00:00Z')).toBeUndefined();
    expect(repeatingIntervalProblem('R/2016-01-01/2015-01-01')).toMatch(/ends before/);
    expect(repeatingIntervalProblem('P1D')).toBeTruthy();
    expect(repeatingIntervalProblem('R/2015-03-01T13:00:00Z/P')).toBeTruthy();
  });
  it('maps a whole-minute Quartz cron to the EventBridge form for arming', () => {
    expect(schedulerCronOf({ cron: '0 29 2 * * ? *' })).toBe('29 2 * * ? *');
    expect(schedulerCronOf({ cron: '0 29 2 * * ?' })).toBe('29 2 * * ? *');
    expect(schedulerCronOf({ cron: '15 29 2 * * ?' })).toBeUndefined();
    expect(schedulerCronOf({ expression: 'R/PT1H' })).toBeUndefined();
  });
});

describe('the OpenAPI document', () => {
  it('documents every executions, datasets and Domo route with a summary', async () => {
    const { routes, routeKey } = await import('#functions/routes.ts');
    const { ROUTE_DOCS } = await import('#shared/http/openapi.ts');
    const mine = routes.filter((r) => r.face === 'domo' || /\/(executions|dataset)/.test(r.path));
    expect(mine.length).toBe(22);
    for (const route of mine) expect(ROUTE_DOCS[routeKey(route)]?.summary, routeKey(route)).toBeTruthy();
  });
});
