import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { stateMachines } from '#infra/statemachines/index.ts';
import { resourcesOf, synth } from './synth.ts';

describe('the group state machine', () => {
  const { root, areas } = synth();
  const group = stateMachines.find((m) => m.name === 'group')!;

  it('is deployed from group.asl.json with every task function substituted, next to the run machine', () => {
    root.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      StateMachineName: 'Sluice-group',
      DefinitionSubstitutions: Object.fromEntries(Object.keys(group.tasks).map((name) => [name, { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] }])),
    });
    root.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: 'Sluice-run' });
    for (const handler of Object.values(group.tasks)) {
      root.hasResourceProperties('AWS::Lambda::Function', { Description: `sluice functions/${handler}.ts` });
    }
  });

  it('gives API functions GROUP_STATE_MACHINE_ARN', () => {
    const fns = resourcesOf([...areas.values()], 'AWS::Lambda::Function');
    const start = fns.find((fn) => fn.Properties.Description === 'sluice functions/v1/stream-groups-start.ts');
    expect(start, 'the group start function').toBeTruthy();
    expect(Object.keys(start!.Properties.Environment.Variables)).toContain('GROUP_STATE_MACHINE_ARN');
  });
});

describe('the purge state machine', () => {
  const { root, areas } = synth();

  it('is deployed from purge.asl.json, and every stream and group delete may start it', () => {
    root.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'Sluice-purge',
      DefinitionSubstitutions: { PurgeFunctionArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
    });
    root.hasResourceProperties('AWS::Lambda::Function', { Description: 'sluice functions/workflows/purge.ts' });
    const fns = resourcesOf([...areas.values()], 'AWS::Lambda::Function');
    for (const handler of ['v1/streams-delete', 'domo/streams-delete', 'dbconvert/configs-delete', 'v1/stream-groups-delete']) {
      const fn = fns.find((f) => f.Properties.Description === `sluice functions/${handler}.ts`);
      expect(fn, handler).toBeTruthy();
      expect(Object.keys(fn!.Properties.Environment.Variables)).toContain('PURGE_STATE_MACHINE_ARN');
    }
  });
});

describe('the schedules the stack owns', () => {
  // Deployed with or without the scheduled-run function.
  const { root } = synth({ scheduledRunHandler: null });

  it('sweep stale purges hourly through EventBridge Scheduler, invoking the sweep function', () => {
    root.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'purge-sweep',
      ScheduleExpression: 'rate(1 hour)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventsPurgeSweep'), 'Arn'] }, RoleArn: Match.anyValue() },
    });
    root.hasResourceProperties('AWS::Lambda::Function', { Description: 'sluice functions/events/purge-sweep.ts' });
  });
});
