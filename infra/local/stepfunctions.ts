import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { StateMachineSpec } from '#infra/statemachines/index.ts';
import { closeServer, listen, readJson, ServiceError, writeJson } from './json-server.ts';

/**
 * A Step Functions endpoint speaking the AWS JSON 1.0 protocol for the
 * operations Sluice uses, backed by the aws-local-stepfunctions interpreter
 * running the same ASL files that CDK deploys.
 */
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

export const stateMachineArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:sluice-${name}`;
const localFunctionArn = (module: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:sluice-${module.replace(/\W/g, '-')}`;

interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  abort: () => void;
}

export interface RunningStepFunctions {
  endpoint: string;
  executions: Map<string, Execution>;
  stop(): Promise<void>;
}

export async function startStepFunctions(options: {
  port: number;
  machines: StateMachineSpec[];
  statemachinesDir: string;
  invoke: (module: string, event: unknown) => Promise<unknown>;
}): Promise<RunningStepFunctions> {
  const machines = new Map<string, StateMachine>();
  for (const spec of options.machines) {
    let text = readFileSync(join(options.statemachinesDir, spec.file), 'utf8');
    const resources: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [substitution, module] of Object.entries(spec.tasks)) {
      text = text.replaceAll(`\${${substitution}}`, localFunctionArn(module));
      resources[localFunctionArn(module)] = (input) => options.invoke(module, input);
    }
    const definition = JSON.parse(text);
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, state] of Object.entries<any>(definition.States ?? {})) {
      if (state.Type === 'Task' && resources[state.Resource]) overrides[stateName] = resources[state.Resource];
    }
    machines.set(stateMachineArn(spec.name), Object.assign(new StateMachine(definition), { overrides }));
  }
  const executions = new Map<string, Execution>();

  const operations: Record<string, (body: any) => Promise<unknown>> = {
    async StartExecution(body) {
      const machine = machines.get(body.stateMachineArn);
      if (!machine) throw new ServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${body.stateMachineArn}'`);
      const name = body.name ?? randomUUID();
      const executionArn = `${body.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
      const existing = executions.get(executionArn);
      if (existing) {
        if (existing.input === (body.input ?? '{}')) return { executionArn, startDate: existing.startDate / 1000 };
        throw new ServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
      }
      const input = body.input ?? '{}';
      const run = machine.run(JSON.parse(input), {
        overrides: { taskResourceLocalHandlers: (machine as any).overrides },
        context: { Execution: { Id: executionArn, Name: name, Input: JSON.parse(input), StartTime: new Date().toISOString() } },
      } as any);
      const execution: Execution = { executionArn, stateMachineArn: body.stateMachineArn, name, status: 'RUNNING', startDate: Date.now(), input, abort: run.abort };
      executions.set(executionArn, execution);
      run.result.then(
        (output: unknown) => Object.assign(execution, { status: 'SUCCEEDED', output: JSON.stringify(output), stopDate: Date.now() }),
        (error: any) => {
          if (execution.status === 'ABORTED') return;
          Object.assign(execution, { status: 'FAILED', error: error?.name ?? 'Error', cause: error?.message ?? String(error), stopDate: Date.now() });
        },
      );
      return { executionArn, startDate: execution.startDate / 1000 };
    },
    async DescribeExecution(body) {
      const execution = executions.get(body.executionArn);
      if (!execution) throw new ServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
      const { abort: _abort, ...description } = execution;
      return { ...description, startDate: execution.startDate / 1000, stopDate: execution.stopDate && execution.stopDate / 1000 };
    },
    async StopExecution(body) {
      const execution = executions.get(body.executionArn);
      if (!execution) throw new ServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
      if (execution.status === 'RUNNING') {
        Object.assign(execution, { status: 'ABORTED', stopDate: Date.now(), error: body.error, cause: body.cause });
        execution.abort();
      }
      return { stopDate: (execution.stopDate ?? Date.now()) / 1000 };
    },
  };

  const server = await listen(options.port, async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = operations[target.replace(/^AWSStepFunctions\./, '')];
    if (!operation) throw new ServiceError('UnknownOperationException', `${target} is not supported by the local Step Functions endpoint`);
    writeJson(res, 200, await operation(await readJson(req)));
  });
  return { endpoint: `http://127.0.0.1:${options.port}`, executions, stop: () => closeServer(server) };
}
