import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { Definition } from '../model/definition.ts';

/**
 * A deployed stream's schedule in EventBridge Scheduler: one schedule per
 * stream, named `sluice-{streamId}` in SCHEDULER_GROUP, target the
 * scheduled-run function (SCHEDULER_TARGET_ARN) with the input below.
 * `<aws.scheduler.scheduled-time>` is filled in by the Scheduler on each fire,
 * which is what makes the trigger idempotent per fire time.
 */
const scheduler = new SchedulerClient({});

export const scheduleName = (streamId: string) => `sluice-${streamId}`;
const group = () => process.env.SCHEDULER_GROUP ?? 'default';

export interface ScheduledRunInput {
  streamId: string;
  solutionId: string;
  scheduledTime: string;
}

function target(stream: { id: string; solutionId: string }) {
  const input: ScheduledRunInput = { streamId: stream.id, solutionId: stream.solutionId, scheduledTime: '<aws.scheduler.scheduled-time>' };
  return {
    Arn: process.env.SCHEDULER_TARGET_ARN ?? 'arn:aws:lambda:us-east-1:000000000000:function:sluice-events-scheduled-run',
    RoleArn: process.env.SCHEDULER_ROLE_ARN ?? 'arn:aws:iam::000000000000:role/sluice-scheduler',
    Input: JSON.stringify(input),
    RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
  };
}

/** Creates or replaces the stream's schedule from its definition; removes it when the definition has none. */
export async function armSchedule(stream: { id: string; solutionId: string }, definition: Pick<Definition, 'schedule'>): Promise<void> {
  const schedule = definition.schedule;
  if (!schedule?.cron) return disarmSchedule(stream.id);
  const request = {
    Name: scheduleName(stream.id),
    GroupName: group(),
    ScheduleExpression: `cron(${schedule.cron})`,
    ScheduleExpressionTimezone: schedule.timezone ?? 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' as const },
    State: 'ENABLED' as const,
    Target: target(stream),
  };
  try {
    await scheduler.send(new UpdateScheduleCommand(request));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    try {
      await scheduler.send(new CreateScheduleCommand(request));
    } catch (createError) {
      // A racing arm created it first: make it ours.
      if ((createError as Error).name !== 'ConflictException') throw createError;
      await scheduler.send(new UpdateScheduleCommand(request));
    }
  }
}

/** Removes the stream's schedule; a schedule already gone is fine. */
export async function disarmSchedule(streamId: string): Promise<void> {
  try {
    await scheduler.send(new DeleteScheduleCommand({ Name: scheduleName(streamId), GroupName: group() }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
}
