import { pageAsset } from './page-assets';

describe(pageAsset.name, () => {
  it('reads the player script beside the pages', () => {
    const sut = pageAsset('stream-player.js');
    expect(sut).toContain("document.getElementById('astral-play')");
    expect(sut).toContain('mpegts.createPlayer');
  });

  it('reads mpegts.js from node_modules', () => {
    expect(pageAsset('mpegts.js')).toContain('mpegts');
  });
});
