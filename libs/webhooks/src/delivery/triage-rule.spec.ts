import { endSilencedByTriage } from './triage-rule.js';

describe('endSilencedByTriage', () => {
  it('silences the End of an acknowledged or resolved finding only', () => {
    expect(endSilencedByTriage('acknowledged')).toBe(true);
    expect(endSilencedByTriage('resolved')).toBe(true);
    expect(endSilencedByTriage('new')).toBe(false);
    expect(endSilencedByTriage(undefined)).toBe(false);
  });
});
