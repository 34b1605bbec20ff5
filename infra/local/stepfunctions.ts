import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { StateMachineSpec } from '#infra/statemachines/index.ts';
import { closeServer, listen, readJson, ServiceError, writeJson } from './json-server.ts';

/**
 * A Step Functions endpoint speaking the AWS JSON 1.0 protocol for the
 * operations Sluice uses (StartExecution, StopExecution, DescribeExecution,
 * SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat), backed by the
 * aws-local-stepfunctions interpreter running the same ASL files that CDK
 * deploys. Task states run through the interpreter's taskResourceLocalHandlers:
 * a `${...FunctionArn}` resource invokes its handler module in-process;
 * `arn:aws:states:::lambda:invoke[.waitForTaskToken]` invokes the module named
 * by FunctionName (with `.waitForTaskToken`, $$.Task.Token becomes a fresh
 * token the task waits on until SendTaskSuccess/Failure answers it);
 * `arn:aws:states:::states:startExecution` starts an execution here.
 * Wait states and Retry intervals run in real time (no overrides).
 */
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

export const stateMachineArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:sluice-${name}`;
/** The ARN a handler module's function has locally (state machine tasks, schedule targets). */
export const localFunctionArn = (module: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:sluice-${module.replace(/\W/g, '-')}`;

type TaskHandler = (input: unknown, context: { executionArn: () => string }) => Promise<unknown>;

interface PendingToken {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  promise: Promise<unknown>;
  executionArn: string;
}

/** What $$.Task.Token evaluates to in Parameters; the task handler swaps in a real token. */
const TOKEN_PLACEHOLDER = '__sluice_local_task_token__';
const LOCAL_TOKEN_PREFIX = 'local-token-';
const MAX_LOCAL_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function replaceDeep(value: unknown, from: string, to: string): unknown {
  if (value === from) return to;
  if (Array.isArray(value)) return value.map((v) => replaceDeep(v, from, to));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, from, to)]));
  return value;
}

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
  const machines = new Map<string, StateMachine & { overrides: Record<string, TaskHandler> }>();
  const executions = new Map<string, Execution>();
  const tokens = new Map<string, PendingToken>();

  /** `.waitForTaskToken`: a fresh token where the Parameters used $$.Task.Token, answered by SendTaskSuccess/Failure. */
  const waitForToken = (executionArn: () => string, payload: unknown, start: (payload: unknown) => Promise<unknown>) => {
    const token = `${LOCAL_TOKEN_PREFIX}${randomUUID()}`;
    const pending = Promise.withResolvers<unknown>();
    tokens.set(token, { ...pending, executionArn: executionArn() });
    const cleanup = () => tokens.delete(token);
    pending.promise.then(cleanup, cleanup);
    start(replaceDeep(payload, TOKEN_PLACEHOLDER, token)).catch((error) => pending.reject(error));
    return pending.promise;
  };

  const integrations = (resource: string, invokeArn: (arn: string, payload: unknown) => Promise<unknown>): TaskHandler | undefined => {
    const lambda = /^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/.exec(resource);
    if (lambda) {
      return (input: any, context) => {
        const payload = input?.Payload ?? {};
        if (lambda[1]) return waitForToken(context.executionArn, payload, (p) => invokeArn(input.FunctionName, p));
        return invokeArn(input.FunctionName, payload).then((result) => ({ StatusCode: 200, Payload: result }));
      };
    }
    if (resource === 'arn:aws:states:::states:startExecution') {
      return async (input: any) => {
        const started: any = await operations.StartExecution({
          stateMachineArn: input.StateMachineArn,
          name: input.Name,
          input: typeof input.Input === 'string' ? input.Input : JSON.stringify(input.Input ?? {}),
        });
        return { ExecutionArn: started.executionArn, StartDate: new Date(started.startDate * 1000).toISOString() };
      };
    }
    return undefined;
  };

  for (const spec of options.machines) {
    let text = readFileSync(join(options.statemachinesDir, spec.file), 'utf8');
    const resources: Record<string, string> = {};
    for (const [substitution, module] of Object.entries(spec.tasks)) {
      text = text.replaceAll(`\${${substitution}}`, localFunctionArn(module));
      resources[localFunctionArn(module)] = module;
    }
    const invokeArn = async (arn: string, payload: unknown) => {
      const module = resources[arn];
      if (!module) throw Object.assign(new Error(`no local function ${arn}`), { name: 'Lambda.ResourceNotFoundException' });
      return options.invoke(module, payload);
    };
    const definition = JSON.parse(text);
    const overrides: Record<string, TaskHandler> = {};
    // Task states anywhere (Parallel branches, Map item processors) run through the same overrides.
    const collect = (states: Record<string, any>) => {
      for (const [stateName, state] of Object.entries(states ?? {})) {
        // The interpreter times tasks with setTimeout, which cannot wait longer than 2^31 ms (~24 days):
        // longer timeouts (a run parked for up to a year) are clamped to that locally.
        if (typeof state.TimeoutSeconds === 'number' && state.TimeoutSeconds > MAX_LOCAL_TIMEOUT_SECONDS) state.TimeoutSeconds = MAX_LOCAL_TIMEOUT_SECONDS;
        if (state.Type === 'Task') {
          const handler = resources[state.Resource] ? (input: unknown) => invokeArn(state.Resource, input) : integrations(state.Resource, invokeArn);
          if (handler) overrides[stateName] = handler;
        }
        for (const branch of state.Branches ?? []) collect(branch.States);
        collect((state.ItemProcessor ?? state.Iterator)?.States);
      }
    };
    collect(definition.States);
    machines.set(stateMachineArn(spec.name), Object.assign(new StateMachine(definition), { overrides }));
  }

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
      let parsed: unknown;
      try {
        parsed = JSON.parse(input);
      } catch {
        throw new ServiceError('InvalidExecutionInput', 'input is not valid JSON');
      }
      // Test hook (SLUICE_TEST_HOOKS only): a group's or deleted stream's [test:refuse-start-execution=N] (shared/engine/test-hooks.ts) lands here.
      // Set only where the service read the test hook, which it does only with SLUICE_TEST_HOOKS=true.
      if ((parsed as any)?.testHooks?.refuseStartExecution === true) {
        throw new ServiceError('ExecutionLimitExceeded', `Execution ${name} refused by the test hook refuse-start-execution`);
      }
      const handlers = Object.fromEntries(
        Object.entries(machine.overrides).map(([state, handler]) => [state, (i: unknown) => handler(i, { executionArn: () => executionArn })]),
      );
      const run = machine.run(parsed as any, {
        overrides: { taskResourceLocalHandlers: handlers },
        context: {
          Execution: { Id: executionArn, Name: name, Input: parsed, StartTime: new Date().toISOString() },
          StateMachine: { Id: body.stateMachineArn, Name: body.stateMachineArn.split(':').pop() },
          Task: { Token: TOKEN_PLACEHOLDER },
        },
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
        for (const [token, pending] of tokens) if (pending.executionArn === execution.executionArn) tokens.delete(token);
      }
      return { stopDate: (execution.stopDate ?? Date.now()) / 1000 };
    },
    async SendTaskSuccess(body) {
      const pending = pendingToken(body.taskToken);
      let output: unknown;
      try {
        output = JSON.parse(body.output ?? '{}');
      } catch {
        throw new ServiceError('InvalidOutput', 'output is not valid JSON');
      }
      pending.resolve(output);
      return {};
    },
    async SendTaskFailure(body) {
      const pending = pendingToken(body.taskToken);
      pending.reject(Object.assign(new Error(body.cause ?? ''), { name: body.error ?? 'States.TaskFailed' }));
      return {};
    },
    async SendTaskHeartbeat(body) {
      pendingToken(body.taskToken, { keep: true });
      return {};
    },
  };

  /** The waiting task of a token; answering it (success or failure) consumes the token, a heartbeat does not. */
  function pendingToken(token: unknown, options: { keep?: boolean } = {}): PendingToken {
    if (typeof token !== 'string' || !token.startsWith(LOCAL_TOKEN_PREFIX)) throw new ServiceError('InvalidToken', 'Invalid Token');
    const pending = tokens.get(token);
    if (!pending) throw new ServiceError('TaskDoesNotExist', 'Task Does Not Exist');
    if (!options.keep) tokens.delete(token);
    return pending;
  }

  const server = await listen(options.port, async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = operations[target.replace(/^AWSStepFunctions\./, '')];
    if (!operation) throw new ServiceError('UnknownOperationException', `${target} is not supported by the local Step Functions endpoint`);
    writeJson(res, 200, await operation(await readJson(req)));
  });
  return { endpoint: `http://127.0.0.1:${options.port}`, executions, stop: () => closeServer(server) };
}
