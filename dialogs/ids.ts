/** Dialog ids, shared by the main router and the flows. */
export const DIALOG = {
  main: 'main',
  complaint: 'complaint',
  caseStatus: 'caseStatus',
  suggestion: 'suggestion',
  handoff: 'handoff',
  privacy: 'privacy',
  language: 'language',
  ask: 'ask',
} as const;
