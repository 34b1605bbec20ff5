import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { Definition } from '../model/definition.ts';

/**
 * A deployed stream's schedule in EventBridge Scheduler: one schedule per
 * stream, named `sluice-{streamId}` in SCHEDULER_GROUP (a stream group's is
 * `sluice-{groupId}`; ids carry their prefix so the names never collide), target the
 * scheduled-run function (SCHEDULER_TARGET_ARN) with the input below.
 * `<aws.scheduler.scheduled-time>` is filled in by the Scheduler on each fire,
 * which is what makes the trigger idempotent per fire time.
 */
// Pure, so a bundle that never sends through it does not construct it (docs/decisions.md, "Cold start").
const scheduler = /* @__PURE__ */ new SchedulerClient({});

export const scheduleName = (streamId: string) => `sluice-${streamId}`;
const group = () => process.env.SCHEDULER_GROUP ?? 'default';

/** The fire's input: a stream's schedule carries `streamId`, a stream group's `groupId` (docs/groups.md). */
export interface ScheduledRunInput {
  streamId?: string;
  groupId?: string;
  solutionId: string;
  scheduledTime: string;
}

function target(owner: { id: string; solutionId: string }, kind: 'stream' | 'group' = 'stream') {
  const input: ScheduledRunInput = {
    ...(kind === 'group' ? { groupId: owner.id } : { streamId: owner.id }),
    solutionId: owner.solutionId,
    scheduledTime: '<aws.scheduler.scheduled-time>',
  };
  return {
    Arn: process.env.SCHEDULER_TARGET_ARN ?? 'arn:aws:lambda:us-east-1:000000000000:function:sluice-events-scheduled-run',
    RoleArn: process.env.SCHEDULER_ROLE_ARN ?? 'arn:aws:iam::000000000000:role/sluice-scheduler',
    Input: JSON.stringify(input),
    RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
  };
}

/** Creates or replaces the stream's schedule from its definition; removes it when the definition has none. */
export async function armSchedule(stream: { id: string; solutionId: string }, definition: Pick<Definition, 'schedule'>): Promise<void> {
  return putSchedule(stream, definition.schedule, 'stream');
}

/** A stream group's schedule (`sluice-{groupId}`): its fire starts a group run. Removed when the group has none. */
export async function armGroupSchedule(group: { id: string; solutionId: string; schedule?: Definition['schedule'] }): Promise<void> {
  return putSchedule(group, group.schedule, 'group');
}

/** Removes a stream group's schedule; one already gone is fine. */
export const disarmGroupSchedule = (groupId: string) => disarmSchedule(groupId);

async function putSchedule(owner: { id: string; solutionId: string }, schedule: Definition['schedule'], kind: 'stream' | 'group'): Promise<void> {
  if (!schedule?.cron) return disarmSchedule(owner.id);
  const request = {
    Name: scheduleName(owner.id),
    GroupName: group(),
    ScheduleExpression: `cron(${schedule.cron})`,
    ScheduleExpressionTimezone: schedule.timezone ?? 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' as const },
    State: 'ENABLED' as const,
    Target: target(owner, kind),
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

/** Removes the stream's (or group's) schedule; a schedule already gone is fine. */
export async function disarmSchedule(streamId: string): Promise<void> {
  try {
    await scheduler.send(new DeleteScheduleCommand({ Name: scheduleName(streamId), GroupName: group() }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
}
