import {
  ActionPlugin,
  type ExecuteContext,
  type PluginClass,
  type Static,
  Task,
  type TaskContext,
  Type,
} from '@plugboard/core';
import { EVENT_TYPES } from 'plugboard-example-ops-tracker-points';
import { startOfDay, today } from './days.ts';
import { SAMPLE_CREDENTIALS, SAMPLE_EVENTS } from './sample-data.ts';
import type { TrackerServices } from './services.ts';
import type { NewCredential, NewEvent } from './tracker-database.ts';

const Day = (description: string) => Type.String({ format: 'date', description });

const SeedArgs = Type.Object({
  on: Type.Optional(Day('The last day of the sample (YYYY-MM-DD, UTC); default today')),
  replace: Type.Boolean({ default: true, description: 'Delete the existing events and credentials first' }),
});

const AddEventArgs = Type.Object({
  type: Type.Enum(EVENT_TYPES, { description: 'What kind of event it is' }),
  source: Type.String({ minLength: 1, maxLength: 200, description: 'The system or host it concerns' }),
  summary: Type.String({ minLength: 1, maxLength: 2000, description: 'What happened' }),
  at: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'When it happened (ISO 8601, e.g. 2025-06-01T14:05:00Z); default now',
    }),
  ),
  operator: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'Who did it; default the user running the command',
    }),
  ),
});

const AddCredentialArgs = Type.Object({
  system: Type.String({ minLength: 1, maxLength: 200, description: 'The system it opens, e.g. vpn' }),
  account: Type.String({ minLength: 1, maxLength: 200, description: 'The account name' }),
  owner: Type.String({ minLength: 1, maxLength: 100, description: 'Who rotates it' }),
  secret: Type.String({
    minLength: 1,
    description:
      'The secret; only its fingerprint is kept. Prefer the variable to keep it out of shell history',
    env: 'OPS_TRACKER_SECRET',
  }),
  expires: Type.Optional(Day('The day it expires (YYYY-MM-DD, UTC); default never')),
});

/**
 * The tracker's record-keeping commands: `seed`, `add-event` and `add-credential`. Their tasks write to the
 * tracker's database; a credential's secret is fingerprinted in `createTasks`, so it never reaches a task's
 * input, the task history or the log.
 */
export function recordCommands(services: TrackerServices): PluginClass[] {
  const { tracker } = services;

  class SeedTask extends Task<
    { on: string; replace: boolean },
    { events: number; credentials: number; on: string }
  > {
    run(ctx: TaskContext) {
      const last = startOfDay(this.input.on);
      const total = SAMPLE_EVENTS.length + SAMPLE_CREDENTIALS.length;
      let done = 0;
      tracker.transaction(() => {
        if (this.input.replace) {
          tracker.clear();
          ctx.log.info('Deleted the existing events and credentials');
        }
        for (const sample of SAMPLE_EVENTS) {
          const at = new Date(last.getTime() - sample.daysBefore * 86_400_000);
          const [hours, minutes] = sample.time.split(':').map(Number) as [number, number];
          at.setUTCHours(hours, minutes);
          const { daysBefore: _days, time: _time, ...event } = sample;
          tracker.addEvent({ ...event, occurredAt: at.toISOString() });
          ctx.progress((++done / total) * 100, 'events');
        }
        for (const sample of SAMPLE_CREDENTIALS) {
          const expires =
            sample.expiresInDays === null
              ? null
              : today(new Date(last.getTime() + sample.expiresInDays * 86_400_000));
          tracker.addCredential({
            system: sample.system,
            account: sample.account,
            owner: sample.owner,
            secretFingerprint: tracker.fingerprint(sample.secret),
            expiresOn: expires,
          });
          ctx.progress((++done / total) * 100, 'credentials');
        }
      });
      ctx.log.info(
        `Seeded ${SAMPLE_EVENTS.length} events and ${SAMPLE_CREDENTIALS.length} credentials up to ${this.input.on}`,
      );
      return { events: SAMPLE_EVENTS.length, credentials: SAMPLE_CREDENTIALS.length, on: this.input.on };
    }
  }

  class Seed extends ActionPlugin({
    id: 'seed',
    name: 'Seed sample data',
    description: 'Fills the tracker with four days of sample events and a set of sample credentials.',
    category: 'Records',
    sortOrder: 3,
    args: SeedArgs,
    tasks: [SeedTask],
  }) {
    createTasks(args: Static<typeof SeedArgs>) {
      return new SeedTask({ on: args.on ?? today(), replace: args.replace });
    }
  }

  class AddEventTask extends Task<NewEvent, { id: number; occurredAt: string }> {
    run(ctx: TaskContext) {
      const event = tracker.addEvent(this.input);
      ctx.log.info(`Recorded ${event.type} event ${event.id} on ${event.source}`);
      return { id: event.id, occurredAt: event.occurredAt };
    }
  }

  class AddEvent extends ActionPlugin({
    id: 'add-event',
    name: 'Record an event',
    description: 'Records one operational event: a deploy, a change, an incident, an alert, an access...',
    category: 'Records',
    sortOrder: 1,
    args: AddEventArgs,
    tasks: [AddEventTask],
  }) {
    createTasks(args: Static<typeof AddEventArgs>, ctx: ExecuteContext) {
      return new AddEventTask({
        type: args.type,
        source: args.source,
        summary: args.summary,
        occurredAt: new Date(args.at ?? Date.now()).toISOString(),
        operator: args.operator ?? ctx.user.id,
      });
    }
  }

  class AddCredentialTask extends Task<NewCredential, { id: number; rotated: boolean }> {
    run(ctx: TaskContext) {
      const { credential, rotated } = tracker.addCredential(this.input);
      ctx.log.info(
        `${rotated ? 'Rotated' : 'Recorded'} the credential of ${credential.account} on ${credential.system}`,
      );
      return { id: credential.id, rotated };
    }
  }

  class AddCredential extends ActionPlugin({
    id: 'add-credential',
    name: 'Record a credential',
    description:
      'Records a credential, or rotates it when the system and account are known. Only a fingerprint of the secret is kept.',
    category: 'Records',
    sortOrder: 2,
    args: AddCredentialArgs,
    tasks: [AddCredentialTask],
  }) {
    createTasks(args: Static<typeof AddCredentialArgs>) {
      return new AddCredentialTask({
        system: args.system,
        account: args.account,
        owner: args.owner,
        secretFingerprint: tracker.fingerprint(args.secret),
        expiresOn: args.expires ?? null,
      });
    }
  }

  return [AddEvent, AddCredential, Seed];
}
