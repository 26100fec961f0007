import { PAGE_CSP, isPageAsset, pageAsset, pageAssetType } from './page-assets';

describe(pageAsset.name, () => {
  it('reads the player script beside the pages', () => {
    const sut = pageAsset('stream-player.js');
    expect(sut).toContain("document.getElementById('astral-play')");
    expect(sut).toContain('mpegts.createPlayer');
  });

  it('reads mpegts.js and hls.js from node_modules', () => {
    expect(pageAsset('mpegts.js')).toContain('mpegts');
    expect(pageAsset('hls.js')).toContain('lowLatencyMode');
  });

  it('reads the HLS side of the player, which loads hls.js only when asked', () => {
    const sut = pageAsset('stream-hls.js');
    expect(sut).toContain("'/assets/hls.js'");
    expect(sut).toContain('lowLatencyMode');
    expect(sut).toContain('canPlayType(HLS_TYPE)');
  });

  it('serves only the files it names, with their type', () => {
    expect(isPageAsset('pages.css')).toBe(true);
    expect(pageAssetType('pages.css')).toContain('text/css');
    expect(isPageAsset('../../main.js')).toBe(false);
    expect(isPageAsset('toString')).toBe(false);
  });

  it('allows no inline script', () => {
    expect(PAGE_CSP).toContain("script-src 'self';");
    expect(PAGE_CSP).not.toContain('unsafe');
    // hls.js must not need a blob: worker (scripts stay 'self'); native HLS plays a node's playlist URL.
    expect(PAGE_CSP).toContain("media-src 'self' blob: http: https:;");
  });
});
