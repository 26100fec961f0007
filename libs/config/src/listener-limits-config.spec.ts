import { ConfigError, loadConfig } from './load-config';
import { LISTENER_LIMITS_ENV, ListenerLimitsConfig, listenerLimits } from './listener-limits-config';
import { NODE_ENV, NodeConfig } from './node-config';

describe(ListenerLimitsConfig.name, () => {
  it('gives the ListenerGuard shape, with its defaults', () => {
    expect(listenerLimits(new ListenerLimitsConfig())).toEqual({
      maxConnections: 10_000,
      maxPerAddress: 1_000,
      handshakeTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
    });
  });

  it('is read and validated through a config class that extends it', () => {
    const sut = loadConfig(NodeConfig, NODE_ENV, {
      ASTRAL_MAX_CONNECTIONS: '50',
      ASTRAL_MAX_CONNECTIONS_PER_ADDRESS: '5',
      ASTRAL_HANDSHAKE_TIMEOUT_MS: '2000',
    });
    expect(listenerLimits(sut)).toEqual({
      maxConnections: 50,
      maxPerAddress: 5,
      handshakeTimeoutMs: 2000,
      idleTimeoutMs: 60_000,
    });
    expect(sut.rtmpPort).toBe(1935);
  });

  it('fails fast naming each variable out of range', () => {
    const run = () =>
      loadConfig(ListenerLimitsConfig, LISTENER_LIMITS_ENV, {
        ASTRAL_MAX_CONNECTIONS: '0',
        ASTRAL_IDLE_TIMEOUT_MS: '10',
      });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/ASTRAL_MAX_CONNECTIONS="0"/);
    expect(run).toThrow(/ASTRAL_IDLE_TIMEOUT_MS="10"/);
  });
});
