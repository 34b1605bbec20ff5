/**
 * The state machines: one ASL file each, with `${...}` substitutions. CDK
 * deploys them with DefinitionBody.fromFile + definitionSubstitutions; the
 * local runtime loads the same files and maps each `*FunctionArn` substitution
 * to the handler module under functions/ that implements the task.
 */
export interface StateMachineSpec {
  /** Logical name; the env var `${NAME}_STATE_MACHINE_ARN` carries its ARN to handlers. */
  name: string;
  file: string;
  /** Substitution name -> handler module (under functions/). */
  tasks: Record<string, string>;
}

export const stateMachines: StateMachineSpec[] = [
  // Runs (docs/runs.md). Handlers that start, pause, resume or stop runs get RUN_STATE_MACHINE_ARN.
  {
    name: 'run',
    file: 'run.asl.json',
    tasks: {
      ProcessBundleFunctionArn: 'workflows/process-bundle',
      ParkRunFunctionArn: 'workflows/park-run',
      RecordEndFunctionArn: 'workflows/record-end',
      RecordFailureFunctionArn: 'workflows/record-failure',
    },
  },
  // Stream groups (docs/groups.md). Handlers that start, stop or resume group runs get GROUP_STATE_MACHINE_ARN.
  {
    name: 'group',
    file: 'group.asl.json',
    tasks: {
      GroupPrepareFunctionArn: 'workflows/group-prepare',
      GroupStartStreamFunctionArn: 'workflows/group-start-stream',
      GroupSaveCheckpointFunctionArn: 'workflows/group-save-checkpoint',
      GroupRecordEndFunctionArn: 'workflows/group-record-end',
      GroupRecordStoppedFunctionArn: 'workflows/group-record-stopped',
      GroupRecordFailureFunctionArn: 'workflows/group-record-failure',
    },
  },
  // What a deleted stream or group leaves behind (docs/architecture.md "Deleting a stream"). Stream and group deletes get PURGE_STATE_MACHINE_ARN.
  {
    name: 'purge',
    file: 'purge.asl.json',
    tasks: {
      PurgeFunctionArn: 'workflows/purge',
    },
  },
];
