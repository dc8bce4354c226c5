import { buildEndRecord, buildStartRecord, type InsightInput } from '@trailsight/findings';
import { insightPayload, maxBodyBytes, pingPayload } from './destination-payload.js';
import { insightFacts, severityOf, topContributorOf } from './insight-facts.js';
import { pagerDutyEvent, PAGERDUTY_LIMITS } from './pagerduty-event.js';
import { SLACK_LIMITS, slackMessage } from './slack-message.js';
import { TEAMS_MAX_BYTES, teamsCard } from './teams-card.js';

const BOT = 'arn:aws:sts::123456789012:assumed-role/deploy-bot/ci';
const input: InsightInput = {
  accountId: '123456789012',
  region: 'eu-west-1',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  insightType: 'ApiCallRateInsight',
  startMinute: Date.UTC(2026, 8, 1, 12, 0),
  durationMinutes: 3,
  insightAverage: 40,
  baselineAverage: 2,
  baselineDurationMinutes: 10080,
  attributions: {
    userIdentityArn: [
      { value: 'arn:aws:iam::123456789012:user/alice', insightAverage: 4, baselineAverage: 1 },
      { value: BOT, insightAverage: 36, baselineAverage: 1 },
    ],
  },
};
const start = buildStartRecord(input, { sharedEventID: 'shared-1', eventID: 'event-1' });
const end = buildEndRecord(input, { sharedEventID: 'shared-1', eventID: 'event-2' });
const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';

describe('insight facts', () => {
  it('names the top contributor: the highest insight-window average of userIdentityArn', () => {
    expect(topContributorOf(start)).toBe(`${BOT} (36/min)`);
    expect(topContributorOf(buildStartRecord({ ...input, attributions: undefined }, { sharedEventID: 'x' }))).toBe(
      'none recorded',
    );
  });

  it('takes severity from the strength, spikes and drops alike', () => {
    expect(severityOf(start)).toBe('critical'); // 40 vs 2: 20x
    const at = (insightAverage: number, baselineAverage: number) =>
      severityOf(buildStartRecord({ ...input, insightAverage, baselineAverage }, { sharedEventID: 'x' }));
    expect(at(12, 2)).toBe('error');
    expect(at(5, 2)).toBe('warning');
    expect(at(3, 2)).toBe('info');
    expect(at(0, 20)).toBe('critical');
  });

  it('states the new actors, marking those new on the whole account-region, in Slack, Teams and PagerDuty', () => {
    const intruder = 'arn:aws:iam::123456789012:role/never-seen';
    const newActors = {
      userIdentityArn: [intruder, BOT],
      userAgent: ['python-requests/2.31'],
      onAccountRegion: { userIdentityArn: [intruder], userAgent: [] },
    };
    const facts = insightFacts('insight.start', start, undefined, newActors);
    expect(facts.newActors).toBe(
      `identity ${intruder} (new on the account-region); identity ${BOT} (new on this API); user agent python-requests/2.31 (new on this API)`,
    );
    for (const type of ['slack', 'teams', 'pagerduty'] as const) {
      expect(JSON.stringify(insightPayload({ type }, 'd-1', 'insight.start', start, newActors))).toContain(
        `${intruder} (new on the account-region)`,
      );
    }
    expect(insightFacts('insight.start', start, undefined, { userIdentityArn: [], userAgent: [] }).newActors).toBe(
      'none',
    );
    expect(insightFacts('insight.start', start).newActors).toBe('unknown');
  });

  it('links to the finding only when PUBLIC_URL is set', () => {
    expect(insightFacts('insight.start', start).link).toBeUndefined();
    expect(insightFacts('insight.start', start, 'https://ts.example.com').link).toBe(
      'https://ts.example.com/v1/findings/shared-1',
    );
  });
});

describe('slack message', () => {
  it('is a Block Kit message with the facts, within Slack limits', () => {
    const message = slackMessage(insightFacts('insight.start', start, 'https://ts.example.com')) as {
      text: string;
      blocks: Array<{ type: string; text?: { text: string }; fields?: Array<{ text: string }>; elements?: unknown[] }>;
    };
    expect(message.text).toContain('RunInstances');
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    const all = JSON.stringify(message.blocks);
    for (const fact of [
      'account 123456789012, eu-west-1',
      '2/min',
      '40/min',
      BOT,
      'https://ts.example.com/v1/findings/shared-1',
    ]) {
      expect(all).toContain(fact);
    }
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context', 'actions']);
  });

  it('cuts long texts to the limits', () => {
    const long = 'x'.repeat(5000);
    const facts = { ...insightFacts('insight.start', start), title: long, what: long, topContributor: long };
    const message = slackMessage(facts) as {
      text: string;
      blocks: Array<{ type: string; text?: { text: string }; fields?: Array<{ text: string }> }>;
    };
    expect(message.blocks[0].text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    expect(message.blocks[1].text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    for (const field of message.blocks[1].fields!)
      expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(message.blocks.map((b) => b.type)).not.toContain('actions');
  });
});

describe('teams card', () => {
  it('is a message with one Adaptive Card carrying the same facts, under 28 KB', () => {
    const message = teamsCard(insightFacts('insight.end', end, 'https://ts.example.com')) as {
      type: string;
      attachments: Array<{
        contentType: string;
        content: { type: string; version: string; body: unknown[]; actions?: unknown[] };
      }>;
    };
    expect(message.type).toBe('message');
    expect(message.attachments).toHaveLength(1);
    expect(message.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(message.attachments[0].content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    const text = JSON.stringify(message);
    expect(text).toContain('ended');
    expect(text).toContain(BOT);
    expect(text).toContain('Action.OpenUrl');
    expect(Buffer.byteLength(text)).toBeLessThan(TEAMS_MAX_BYTES);
    expect(maxBodyBytes('teams')).toBe(TEAMS_MAX_BYTES);
  });
});

describe('pagerduty event', () => {
  it('triggers on Start with dedup_key = sharedEventID and the required payload fields', () => {
    const event = pagerDutyEvent(insightFacts('insight.start', start), ROUTING_KEY) as {
      payload: { summary: string; source: string; severity: string };
    };
    expect(event).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: 'shared-1' });
    expect(event.payload.severity).toBe('critical');
    expect(event.payload.source).toBe('account 123456789012, eu-west-1');
    expect(event.payload.summary).toContain('RunInstances');
  });

  it('resolves on End with the same dedup_key', () => {
    expect(pagerDutyEvent(insightFacts('insight.end', end), ROUTING_KEY)).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: 'shared-1',
    });
  });

  it('keeps the summary within 1024 characters', () => {
    const facts = { ...insightFacts('insight.start', start), title: 'y'.repeat(3000) };
    const event = pagerDutyEvent(facts, ROUTING_KEY) as { payload: { summary: string } };
    expect(event.payload.summary.length).toBe(PAGERDUTY_LIMITS.summary);
  });
});

describe('destination payloads', () => {
  it('keeps the EventBridge envelope for type webhook', () => {
    expect(insightPayload({ type: 'webhook' }, 'd-1', 'insight.start', start)).toMatchObject({
      id: 'd-1',
      'detail-type': 'AWS Insight via CloudTrail',
      detail: start,
    });
  });

  it('tests a pagerduty subscription with a resolve that pages no one', () => {
    expect(pingPayload({ type: 'pagerduty', routingKey: ROUTING_KEY }, 'd-1', 'sub-1')).toMatchObject({
      event_action: 'resolve',
      routing_key: ROUTING_KEY,
    });
    expect(pingPayload({ type: 'slack' }, 'd-1', 'sub-1')).toHaveProperty('text');
    expect(pingPayload({ type: 'teams' }, 'd-1', 'sub-1')).toHaveProperty('attachments');
  });
});
