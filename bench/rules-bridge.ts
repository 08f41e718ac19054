import { parseDelivery } from '#lib/domain/intake/meta-webhook.ts';
import { type ConversationCounter, organicCounts } from '#lib/domain/safety/conversation-counts.ts';
import { type Subscription, subscriptionId } from '#lib/domain/subscription.ts';
import type { MetaModel } from '../local/meta-simulator/model.ts';
import type { OutgoingEvent } from '../local/meta-simulator/webhook-delivery.ts';
import type { MemoryTable } from '../test/support/memory-ports.ts';
import type { TruthEvent } from './rules-allowed.ts';
import { DAY_MS, type Person, type PersonAction } from './rules-world.ts';

/**
 * Between the simulated people, Meta's model and Recurrent's table in the `rules` benchmark:
 * people act on the model (write, opt in, stop, resume, opt out, move), the model's opt-in
 * webhooks reach the table as the intake would apply them (late during a webhook outage), and
 * every change is written down as Meta sees it: the truth the allowed sends are counted from.
 */

interface Pending {
  dueAt: number;
  optin: Record<string, unknown>;
  pageId: string;
  psid: string;
}

const OPT_IN_REPEAT_MS = 7 * DAY_MS;

/** The bridge over one table; `place` puts a changed subscription in the due index. */
export function createBridge(deps: {
  table: MemoryTable;
  place: (item: Subscription) => void;
  clock: { now(): number };
  outages: readonly { from: number; to: number }[];
  /** Where people's messages to the Page are counted, as the webhook counts them; none: not. */
  conversations?: ConversationCounter;
}) {
  const { table, place, clock, outages } = deps;
  const pending: Pending[] = [];
  const truth: TruthEvent[] = [];
  const outageAt = (at: number) => outages.find((outage) => at >= outage.from && at < outage.to);

  /** Applies an opt-in, stop or resume webhook as the intake would: newest event wins. */
  function apply({ optin, pageId, psid, dueAt }: Pending) {
    const topicId = String(optin.payload);
    const key = { pageId, psid, topicId };
    const item = table.subscriptions.get(subscriptionId(key));
    const status = optin.notification_messages_status;
    const zone =
      typeof optin.notification_messages_timezone === 'string'
        ? optin.notification_messages_timezone
        : undefined;
    if (item && item.lastEventAt > dueAt) return;
    if (status === 'STOP NOTIFICATIONS') {
      if (item)
        Object.assign(item, {
          status: 'stopped',
          lastEventAt: dueAt,
          version: (item.version ?? 0) + 1,
        });
      return;
    }
    const token =
      typeof optin.notification_messages_token === 'string'
        ? optin.notification_messages_token
        : undefined;
    if (!item) {
      const created: Subscription = {
        ...key,
        status: 'active',
        ...(token !== undefined && { token }),
        timezone: zone ?? 'UTC',
        lastEventAt: dueAt,
        activeSince: dueAt,
        optedInAt: dueAt,
        version: 1,
      };
      table.subscriptions.set(subscriptionId(key), created);
      place(created);
      return;
    }
    Object.assign(item, {
      status: 'active',
      ...(token !== undefined && { token }),
      ...(zone !== undefined && { timezone: zone }),
      activeSince: item.status === 'active' ? item.activeSince : dueAt,
      lastEventAt: dueAt,
      version: (item.version ?? 0) + 1,
    });
    place(item);
  }

  return {
    /** Takes an event the model emits; only opt-in, stop and resume webhooks reach the table here. */
    receive(event: OutgoingEvent): void {
      if (event.kind !== 'messaging') return;
      if (event.event.message && deps.conversations) {
        // Through the webhook's parser and counting; the memory counter is done before it returns.
        const body = { object: 'page', entry: [{ id: event.pageId, messaging: [event.event] }] };
        const messages = parseDelivery(JSON.stringify(body)).events.flatMap((parsed) =>
          parsed.kind === 'inbound' ? [parsed] : [],
        );
        void deps.conversations.add(organicCounts(messages));
        return;
      }
      const optin = event.event.optin as Record<string, unknown> | undefined;
      const sender = event.event.sender as { id?: string } | undefined;
      if (!optin || sender?.id === undefined) return;
      pending.push({ dueAt: event.dueAt, optin, pageId: event.pageId, psid: sender.id });
    },
    /** Delivers the webhooks due unless the webhook is down (Meta retries after the outage). */
    deliverDue(): void {
      const now = clock.now();
      if (outageAt(now)) return;
      while (pending[0] && pending[0].dueAt <= now) apply(pending.shift() as Pending);
    },
    /** When the next delivery can happen. */
    nextDeliveryAt(): number {
      const first = pending[0];
      if (!first) return Number.POSITIVE_INFINITY;
      return Math.max(first.dueAt, outageAt(clock.now())?.to ?? first.dueAt);
    },
    truth: () => truth,
    /** The people's plans, acted on the model in time order. */
    actor: (model: MetaModel, people: readonly Person[]) => createActor(model, people, truth),
  };
}

type Step = { at: number; person: Person; action: PersonAction };

function createActor(model: MetaModel, people: readonly Person[], truth: TruthEvent[]) {
  const steps: Step[] = people
    .flatMap((person) => person.plan.map(({ at, action }) => ({ at, person, action })))
    .sort((a, b) => a.at - b.at);
  const zones = new Map(people.map((person) => [person.psid, person.zone]));
  const lastRequest = new Map<string, number>();
  for (const person of people) {
    model.addPerson({ pageId: person.pageId, psid: person.psid, timezone: person.zone });
  }
  let next = 0;

  const record = (step: Step, at: number, topics: readonly string[], active: boolean) => {
    for (const topicId of topics) {
      const { pageId, psid } = step.person;
      truth.push({ at, pageId, psid, topicId, active, zone: zones.get(psid) ?? 'UTC' });
    }
  };

  /** Asks for each opt-in; one a title per 7 days, so a request too soon waits its turn. */
  function optIn(step: Step, at: number): Step | undefined {
    const { pageId, psid, topics } = step.person;
    const soon = topics.find(
      (topicId) => at - (lastRequest.get(`${psid}|${topicId}`) ?? -Infinity) < OPT_IN_REPEAT_MS,
    );
    if (soon !== undefined) {
      return {
        ...step,
        at: (lastRequest.get(`${psid}|${soon}`) ?? at) + OPT_IN_REPEAT_MS + 60_000,
      };
    }
    model.personWrites(pageId, psid);
    for (const topicId of topics) {
      const answer = model.requestOptIn(pageId, { psid, title: topicId, payload: topicId });
      if (!answer.ok)
        throw new Error(`opt-in of ${psid} to ${topicId} refused: ${answer.error.message}`);
      lastRequest.set(`${psid}|${topicId}`, at);
    }
    record(step, at, topics, true);
    return undefined;
  }

  function act(step: Step, at: number): Step | undefined {
    const { pageId, psid, topics } = step.person;
    const { action } = step;
    if (action.kind === 'optin') return optIn(step, at);
    if (action.kind === 'zone') {
      zones.set(psid, action.zone);
      model.updatePerson(pageId, psid, { timezone: action.zone });
      return optIn(step, at);
    }
    if (action.kind === 'stop') model.personStops(pageId, psid, action.topicId);
    if (action.kind === 'resume') model.personResumes(pageId, psid, action.topicId);
    if (action.kind === 'optout') model.personOptsOut(pageId, psid);
    const concerned = action.kind === 'optout' ? topics : [action.topicId];
    record(step, at, concerned, action.kind === 'resume');
    return undefined;
  }

  return {
    actUntil(now: number): void {
      while (steps[next] && (steps[next] as Step).at <= now) {
        const later = act(steps[next] as Step, now);
        next++;
        if (later) {
          const position = steps.findIndex((step, i) => i >= next && step.at > later.at);
          steps.splice(position < 0 ? steps.length : position, 0, later);
        }
      }
    },
    nextAt: () => steps[next]?.at ?? Number.POSITIVE_INFINITY,
  };
}
