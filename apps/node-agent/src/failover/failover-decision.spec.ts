import { shouldRetryFailover, shouldStartFailover } from './failover-decision';

const upstream = { origin: 'upstream' as const };
const publish = { origin: 'publish' as const };

describe(shouldStartFailover.name, () => {
  it('starts for a stream pulled from an upstream', () => {
    expect(shouldStartFailover({ carried: upstream, leaving: false, inProgress: false })).toBe(true);
  });

  it('does not start for a stream this node no longer carries, or publishes itself', () => {
    expect(shouldStartFailover({ carried: undefined, leaving: false, inProgress: false })).toBe(false);
    expect(shouldStartFailover({ carried: publish, leaving: false, inProgress: false })).toBe(false);
  });

  it('does not start while the node leaves, or while a failover for the stream runs', () => {
    expect(shouldStartFailover({ carried: upstream, leaving: true, inProgress: false })).toBe(false);
    expect(shouldStartFailover({ carried: upstream, leaving: false, inProgress: true })).toBe(false);
  });
});

describe(shouldRetryFailover.name, () => {
  it('retries while the node still pulls the stream from an upstream', () => {
    expect(shouldRetryFailover({ carried: upstream, leaving: false })).toBe(true);
  });

  it('gives up once the node leaves, stops watching, or publishes the stream itself', () => {
    expect(shouldRetryFailover({ carried: upstream, leaving: true })).toBe(false);
    expect(shouldRetryFailover({ carried: undefined, leaving: false })).toBe(false);
    expect(shouldRetryFailover({ carried: publish, leaving: false })).toBe(false);
  });
});
