import { ConfigError, loadConfig } from './load-config';
import { NODE_ENV, NodeConfig, parseSeeds } from './node-config';

describe(NodeConfig.name, () => {
  it('reads typed values from the environment', () => {
    const sut = loadConfig(NodeConfig, NODE_ENV, {
      ASTRAL_RTMP_PORT: '1936',
      ASTRAL_UPLOAD_LIMIT: '2.5mbit',
      ASTRAL_PROMOTE_WHEN_ORPHANED: 'false',
      ASTRAL_MAX_CHILDREN: '7',
    });
    expect(sut.rtmpPort).toBe(1936);
    expect(sut.uploadLimitBps).toBe(2_500_000);
    expect(sut.promoteWhenOrphaned).toBe(false);
    expect(sut.maxChildren).toBe(7);
    expect(sut.httpPort).toBe(8000);
  });

  it('treats "unlimited" as no limit and 0 as a real limit', () => {
    expect(
      loadConfig(NodeConfig, NODE_ENV, { ASTRAL_UPLOAD_LIMIT: 'unlimited' }).uploadLimitBps,
    ).toBeUndefined();
    expect(loadConfig(NodeConfig, NODE_ENV, { ASTRAL_UPLOAD_LIMIT: '0' }).uploadLimitBps).toBe(0);
  });

  it('fails fast naming each bad variable', () => {
    const run = () =>
      loadConfig(NodeConfig, NODE_ENV, { ASTRAL_RTMP_PORT: '70000', ASTRAL_UPLOAD_LIMIT: 'fast' });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/ASTRAL_RTMP_PORT="70000"/);
    expect(run).toThrow(/ASTRAL_UPLOAD_LIMIT="fast"/);
  });

  it('reads the HLS settings with their defaults and bounds', () => {
    const defaults = loadConfig(NodeConfig, NODE_ENV, {});
    expect(defaults).toMatchObject({
      hls: 'on',
      hlsPartMs: 333,
      hlsSegmentMs: 2000,
      hlsWindowSegments: 6,
      hlsWindowBytes: 64 * 1024 * 1024,
      hlsIdleMs: 30_000,
    });
    expect(defaults.hlsRecordDir).toBeUndefined();
    const set = loadConfig(NodeConfig, NODE_ENV, {
      ASTRAL_HLS: 'off',
      ASTRAL_HLS_PART_MS: '200',
      ASTRAL_HLS_RECORD_DIR: '/var/rec',
    });
    expect(set).toMatchObject({ hls: 'off', hlsPartMs: 200, hlsRecordDir: '/var/rec' });
    expect(() => loadConfig(NodeConfig, NODE_ENV, { ASTRAL_HLS: 'yes' })).toThrow(/ASTRAL_HLS="yes"/);
    expect(() => loadConfig(NodeConfig, NODE_ENV, { ASTRAL_HLS_PART_MS: '50' })).toThrow(
      /ASTRAL_HLS_PART_MS/,
    );
    expect(() => loadConfig(NodeConfig, NODE_ENV, { ASTRAL_HLS_WINDOW_SEGMENTS: '2' })).toThrow(
      /ASTRAL_HLS_WINDOW_SEGMENTS/,
    );
  });

  it('parses seed lists', () => {
    const id = '0b0e7a52-4a0d-4c4e-9a52-6f3b2f3c9d10';
    expect(parseSeeds(`${id}@10.0.0.2:9000`)).toEqual([{ nodeId: id, host: '10.0.0.2', forwardPort: 9000 }]);
    expect(() => loadConfig(NodeConfig, NODE_ENV, { ASTRAL_SEEDS: 'nonsense' })).toThrow(/ASTRAL_SEEDS/);
  });
});

describe(`${NodeConfig.name} agent API`, () => {
  it('binds the API on loopback unless told otherwise, apart from the advertised host', () => {
    const sut = loadConfig(NodeConfig, NODE_ENV, { ASTRAL_HOST: '10.0.0.5' });
    expect(sut.apiHost).toBe('127.0.0.1');
    expect(sut.host).toBe('10.0.0.5');
    expect(loadConfig(NodeConfig, NODE_ENV, { ASTRAL_API_HOST: '0.0.0.0' }).apiHost).toBe('0.0.0.0');
  });

  it('takes a long enough API token, and never repeats a refused one', () => {
    const good = 'x'.repeat(40);
    expect(loadConfig(NodeConfig, NODE_ENV, { ASTRAL_API_TOKEN: good }).apiToken).toBe(good);
    const run = () => loadConfig(NodeConfig, NODE_ENV, { ASTRAL_API_TOKEN: 'short-secret' });
    expect(run).toThrow(/ASTRAL_API_TOKEN=\(hidden\): must be at least 32 characters/);
    expect(run).not.toThrow(/short-secret/);
  });
});
