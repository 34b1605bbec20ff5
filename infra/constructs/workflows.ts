import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { resolve } from 'node:path';
import type { OwnSchedule } from '#infra/schedules.ts';
import type { StateMachineSpec } from '#infra/statemachines/index.ts';
import { AccessProfiles, type Orchestration } from './access.ts';
import { SluiceFunction, idOf } from './function.ts';

export interface WorkflowsProps {
  stateMachines: StateMachineSpec[];
  /** Directory of the ASL files. */
  statemachinesDir: string;
  /** The handler module EventBridge Scheduler invokes (functions/events/scheduled-run.ts), if there is one. */
  scheduledRunHandler?: string;
  scheduleGroupName: string;
  /** Schedules the stack owns (infra/schedules.ts), deployed with the scheduled-run function's group and role. */
  ownSchedules?: OwnSchedule[];
  table: dynamodb.ITable;
  bucket: s3.IBucket;
  /** Environment shared by every function (table, bucket, version, ...). */
  environment: Record<string, string>;
  bundle?: boolean;
}

/** `run` -> `RUN_STATE_MACHINE_ARN`. */
export const stateMachineEnvName = (name: string) => `${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_STATE_MACHINE_ARN`;

/**
 * The Step Functions state machines (Standard, one ASL file each, task
 * functions substituted in), their task functions, the scheduled-run function
 * with its EventBridge Scheduler group and role.
 *
 * State machine names are fixed (`<stack>-<name>`) so their ARNs are known
 * without referencing the state machines: task functions and API functions
 * get them in their environment with no dependency cycle (a task may start
 * the next execution of its own machine).
 */
export class Workflows extends Construct {
  /** Environment every function gets: state machine ARNs, scheduler settings. */
  readonly environment: Record<string, string> = {};
  readonly orchestration: Orchestration;
  readonly stateMachines: sfn.StateMachine[] = [];
  readonly functions = new Map<string, SluiceFunction>();

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const names = props.stateMachines.map((spec) => `${stack.stackName}-${spec.name}`);
    const stateMachineArns = names.map((name) =>
      stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    const executionArns = names.map((name) =>
      stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${name}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    props.stateMachines.forEach((spec, i) => (this.environment[stateMachineEnvName(spec.name)] = stateMachineArns[i]));

    let schedulerRole: iam.Role | undefined;
    let group: scheduler.CfnScheduleGroup | undefined;
    const ownSchedules = props.ownSchedules ?? [];
    if (props.scheduledRunHandler || ownSchedules.length > 0) {
      group = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', { name: props.scheduleGroupName });
      schedulerRole = new iam.Role(this, 'SchedulerRole', {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
        description: "EventBridge Scheduler invoking the sluice scheduled-run function and the stack's own scheduled functions",
      });
      this.environment.SCHEDULER_GROUP = group.ref;
      this.environment.SCHEDULER_ROLE_ARN = schedulerRole.roleArn;
    }
    this.orchestration = {
      stateMachineArns,
      executionArns,
      scheduleArns: schedulerRole
        ? stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${props.scheduleGroupName}/*` })
        : undefined,
      schedulerRoleArn: schedulerRole?.roleArn,
    };

    const profiles = new AccessProfiles(this, { table: props.table, bucket: props.bucket, orchestration: this.orchestration });
    const fnFor = (handler: string, timeout: Duration) => {
      let fn = this.functions.get(handler);
      if (!fn) {
        fn = new SluiceFunction(this, idOf(handler), {
          handler,
          // Table sources and sinks read connection passwords.
          role: profiles.roleFor('write', ['secrets', 'sfn']),
          environment: { ...props.environment, ...this.environment },
          bundle: props.bundle,
          timeout,
        });
        this.functions.set(handler, fn);
      }
      return fn;
    };

    props.stateMachines.forEach((spec, i) => {
      const tasks = Object.entries(spec.tasks).map(([substitution, handler]) => [substitution, fnFor(handler, Duration.minutes(5))] as const);
      const machine = new sfn.StateMachine(this, idOf(spec.name), {
        stateMachineName: names[i],
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromFile(resolve(props.statemachinesDir, spec.file)),
        definitionSubstitutions: Object.fromEntries(tasks.map(([substitution, fn]) => [substitution, fn.function.functionArn])),
      });
      for (const [, fn] of tasks) fn.function.grantInvoke(machine);
      // Continue-as-new: a long run starts its next execution on its own state machine.
      machine.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArns[i]] }));
      this.stateMachines.push(machine);
    });

    if (props.scheduledRunHandler && schedulerRole) {
      const fn = fnFor(props.scheduledRunHandler, Duration.seconds(60));
      fn.function.grantInvoke(schedulerRole);
      this.environment.SCHEDULER_TARGET_ARN = fn.function.functionArn;
    }
    if (schedulerRole && group) {
      for (const own of ownSchedules) {
        const target = fnFor(own.handler, Duration.minutes(5));
        target.function.grantInvoke(schedulerRole);
        new scheduler.CfnSchedule(this, idOf(`${own.name}-schedule`), {
          name: own.name,
          groupName: group.ref,
          scheduleExpression: own.expression,
          flexibleTimeWindow: { mode: 'OFF' },
          target: { arn: target.function.functionArn, roleArn: schedulerRole.roleArn },
        });
      }
    }
  }
}
