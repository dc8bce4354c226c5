import { truncate, type InsightFacts } from './insight-facts.js';

/**
 * Slack's documented limits (api.slack.com/reference/block-kit/blocks): at most 50 blocks; a
 * section's text at most 3000 characters and each of its (at most 10) fields 2000; a header's
 * plain text 150; a button's URL 3000. A message also needs top-level `text` (notifications, fallback).
 */
export const SLACK_LIMITS = { blocks: 50, sectionText: 3000, fieldText: 2000, headerText: 150, fields: 10, url: 3000 };

/** The Block Kit message posted to a Slack incoming webhook for one insight Start or End. */
export function slackMessage(facts: InsightFacts): Record<string, unknown> {
  const field = (label: string, value: string) => ({
    type: 'mrkdwn',
    text: truncate(`*${label}*\n${value}`, SLACK_LIMITS.fieldText),
  });
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: truncate(facts.title, SLACK_LIMITS.headerText) } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(`*What:* ${facts.what}\n*Where:* ${facts.where}`, SLACK_LIMITS.sectionText),
      },
      fields: [
        field('Baseline', facts.baseline),
        field('Insight', facts.insight),
        field('Top contributor', facts.topContributor),
        field('New actors', facts.newActors),
        field('Severity', facts.severity),
      ],
    },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncate(`Insight ${facts.sharedEventID} at ${facts.eventTime}`, 3000) }],
    },
  ];
  if (facts.link && facts.link.length <= SLACK_LIMITS.url) {
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the finding' }, url: facts.link }],
    });
  }
  return { text: truncate(`${facts.title} (${facts.where})`, SLACK_LIMITS.sectionText), blocks };
}

/** What POST /v1/webhooks/{id}/test sends to Slack. */
export function slackPing(subscriptionId: string): Record<string, unknown> {
  const text = `Trailsight test message for subscription ${subscriptionId}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}
