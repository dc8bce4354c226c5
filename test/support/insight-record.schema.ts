/**
 * JSON Schema (draft-07) of the CloudTrail Insights record, written from the reference doc §2.1.
 * Closed wherever AWS's layout is closed (`additionalProperties: false`), so a stray or misspelt
 * field fails. It accepts AWS's own documented records as well as ours, so the fields AWS's
 * examples omit (attributions, insightDuration, baselineDuration, errorCode, sourceEventCategory,
 * insightSource) are optional. Two deliberate departures from AWS's prose:
 * - `baselineDuration` has minimum 0, not 10,080: Trailsight reports the minutes its baseline
 *   actually covers, which is less than a week while history is short.
 * - ids are any non-empty string: AWS's own examples use ids such as "EXAMPLE8-9621-…".
 */
const attributionEntry = {
  type: 'object',
  additionalProperties: false,
  required: ['value', 'average'],
  properties: {
    value: { type: 'string' },
    average: { type: 'number', minimum: 0 },
  },
} as const;

const attributionList = { type: 'array', maxItems: 5, items: attributionEntry } as const;

export const INSIGHT_RECORD_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://trailsight.dev/schemas/insight-record.json',
  title: 'CloudTrail Insights event record',
  type: 'object',
  additionalProperties: false,
  required: [
    'eventVersion',
    'eventTime',
    'awsRegion',
    'eventID',
    'eventType',
    'sharedEventID',
    'insightDetails',
    'eventCategory',
  ],
  properties: {
    eventVersion: { type: 'string', pattern: '^1\\.[0-9]{2}$' },
    eventTime: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' },
    awsRegion: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$' },
    eventID: { type: 'string', minLength: 1 },
    eventType: { const: 'AwsCloudTrailInsight' },
    recipientAccountId: { type: 'string', pattern: '^[0-9]{12}$' },
    sharedEventID: { type: 'string', minLength: 1 },
    eventCategory: { const: 'Insight' },
    // CloudTrail Lake only; its content is not documented.
    addendum: { type: 'object' },
    insightDetails: {
      type: 'object',
      additionalProperties: false,
      required: ['state', 'eventSource', 'eventName', 'insightType', 'insightContext'],
      properties: {
        state: { enum: ['Start', 'End'] },
        eventSource: { type: 'string', minLength: 1 },
        eventName: { type: 'string', minLength: 1 },
        insightType: { enum: ['ApiCallRateInsight', 'ApiErrorRateInsight'] },
        errorCode: { type: 'string', minLength: 1 },
        sourceEventCategory: { enum: ['Management', 'Data'] },
        insightSource: { type: 'string', minLength: 1 },
        insightContext: {
          type: 'object',
          additionalProperties: false,
          required: ['statistics'],
          properties: {
            statistics: {
              type: 'object',
              additionalProperties: false,
              required: ['baseline', 'insight'],
              properties: {
                baseline: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['average'],
                  properties: { average: { type: 'number', minimum: 0 } },
                },
                insight: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['average'],
                  properties: { average: { type: 'number', minimum: 0 } },
                },
                insightDuration: { type: 'integer', minimum: 1 },
                baselineDuration: { type: 'integer', minimum: 0 },
              },
            },
            attributions: {
              type: 'array',
              maxItems: 3,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['attribute', 'insight', 'baseline'],
                properties: {
                  attribute: { enum: ['userIdentityArn', 'userAgent', 'errorCode'] },
                  insight: attributionList,
                  baseline: attributionList,
                },
              },
            },
          },
        },
      },
      allOf: [
        {
          // The error code sits on insightDetails for error-rate insights only...
          if: { type: 'object', properties: { insightType: { const: 'ApiCallRateInsight' } } },
          then: { type: 'object', not: { type: 'object', required: ['errorCode'] } },
        },
        {
          // ...which, naming one error code already, carry no errorCode attribution.
          if: { type: 'object', properties: { insightType: { const: 'ApiErrorRateInsight' } } },
          then: {
            type: 'object',
            properties: {
              insightContext: {
                type: 'object',
                properties: {
                  attributions: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: { attribute: { enum: ['userIdentityArn', 'userAgent'] } },
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
  },
} as const;
