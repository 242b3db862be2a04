// Names of the Pub/Sub resources in the contract, and the subscriptions the local stack creates
// for the consumers that ship with Tapedeck.
export const TOPICS = {
  snippets: 'recording-snippets',
  clips: 'extended-clips',
  scores: 'snippet-scores',
  deadLetter: 'tapedeck-dead-letter',
} as const;

export interface SubscriptionSpec {
  name: string;
  topic: string;
  ordered?: boolean;
  /** Messages a consumer fails this many times go to the dead-letter topic. */
  deadLetterAfter?: number;
}

export const SUBSCRIPTIONS: SubscriptionSpec[] = [
  { name: 'recording-snippets-moderation', topic: TOPICS.snippets, ordered: true, deadLetterAfter: 5 },
  { name: 'extended-clips-reviewers', topic: TOPICS.clips, deadLetterAfter: 5 },
  { name: 'snippet-scores-reviewers', topic: TOPICS.scores, deadLetterAfter: 5 },
  { name: 'tapedeck-dead-letter-inspect', topic: TOPICS.deadLetter },
];
