import { truncate, type InsightFacts } from './insight-facts.js';

/** Teams refuses a message (card included) above 28 KB (learn.microsoft.com, "Format cards in Teams"). */
export const TEAMS_MAX_BYTES = 28 * 1024;
const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';

/** A message with one Adaptive Card (schema 1.4), as Workflows and Incoming webhooks accept it. */
function cardMessage(body: unknown[], actions: unknown[]): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      {
        contentType: ADAPTIVE_CARD,
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          ...(actions.length > 0 ? { actions } : {}),
        },
      },
    ],
  };
}

/** The Adaptive Card for one insight Start or End: the same facts as the Slack message. */
export function teamsCard(facts: InsightFacts): Record<string, unknown> {
  const fact = (title: string, value: string) => ({ title, value: truncate(value, 2000) });
  return cardMessage(
    [
      { type: 'TextBlock', size: 'Medium', weight: 'Bolder', wrap: true, text: truncate(facts.title, 300) },
      {
        type: 'FactSet',
        facts: [
          fact('What', facts.what),
          fact('Where', facts.where),
          fact('Baseline', facts.baseline),
          fact('Insight', facts.insight),
          fact('Top contributor', facts.topContributor),
          fact('New actors', facts.newActors),
          fact('Severity', facts.severity),
          fact('Insight id', facts.sharedEventID),
          fact('Time', facts.eventTime),
        ],
      },
    ],
    facts.link ? [{ type: 'Action.OpenUrl', title: 'Open the finding', url: facts.link }] : [],
  );
}

/** What POST /v1/webhooks/{id}/test sends to Teams. */
export function teamsPing(subscriptionId: string): Record<string, unknown> {
  return cardMessage(
    [{ type: 'TextBlock', wrap: true, text: `Trailsight test message for subscription ${subscriptionId}` }],
    [],
  );
}
