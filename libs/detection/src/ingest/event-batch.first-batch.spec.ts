import { batchSourceProblem } from './event-batch.validator.js';

// A file of its own: the validator's module is fresh here, as in a detector that has just started.
describe('the first queued batch a process sees', () => {
  it('is parked when its account or region is empty: nothing counts under an empty key part', () => {
    expect(batchSourceProblem({ accountId: '123456789012', region: '' })).toBe(
      "source.region must look like an AWS region (us-east-1): lowercase letters and digits joined by '-'",
    );
    expect(batchSourceProblem({ accountId: '', region: 'us-east-1' })).toBe(
      'source.accountId must be a 12-digit AWS account id',
    );
    expect(batchSourceProblem({ accountId: '123456789012', region: 'us-east-1' })).toBeUndefined();
    expect(batchSourceProblem({ accountId: '123456789012', region: '' })).toBeDefined();
  });
});
