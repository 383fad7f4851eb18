import { expect } from 'chai';
import { isTransient } from '../../shared/errors/transient.js';

describe('isTransient', () => {
  it('when Redis reports a failover in progress, then the job is worth another attempt', () => {
    for (const message of [
      'CLUSTERDOWN The cluster is down',
      'Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down',
      'TRYAGAIN Multiple keys request during rehashing of slot',
      "READONLY You can't write against a read only replica.",
      'LOADING Redis is loading the dataset in memory',
      'Failed to refresh slots cache.',
    ])
      expect(isTransient(new Error(message)), message).to.equal(true);
  });

  it('when Redis refuses a command for what it is, then the job fails once', () => {
    expect(isTransient(new Error("CROSSSLOT Keys in request don't hash to the same slot"))).to.equal(false);
    expect(
      isTransient(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')),
    ).to.equal(false);
  });
});
