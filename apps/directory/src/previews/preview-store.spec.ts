import { MAX_PREVIEWS, PREVIEW_TTL_MS, Preview, PreviewStore } from './preview-store';

const preview = (at: number): Preview => ({ jpeg: Buffer.from([0xff, 0xd8]), width: 320, height: 180, at });

describe(PreviewStore.name, () => {
  let sut: PreviewStore;
  beforeEach(() => (sut = new PreviewStore()));
  afterEach(() => sut.onModuleDestroy());

  it('holds the latest preview of a stream until it is PREVIEW_TTL_MS old', () => {
    sut.set('a', preview(1000));
    sut.set('a', preview(2000));
    expect(sut.get('a', 2001)?.at).toBe(2000);
    expect(sut.has('a', 2000 + PREVIEW_TTL_MS - 1)).toBe(true);
    expect(sut.has('a', 2000 + PREVIEW_TTL_MS)).toBe(false);
    expect(sut.has('b', 2001)).toBe(false);
  });

  it('sweeps stale previews out of memory, and deletes on request', () => {
    sut.set('old', preview(0));
    sut.set('new', preview(PREVIEW_TTL_MS));
    sut.dropStale(PREVIEW_TTL_MS + 1);
    expect(sut.size).toBe(1);
    sut.delete('new');
    expect(sut.size).toBe(0);
  });

  it('keeps at most MAX_PREVIEWS, dropping the least recently refreshed', () => {
    for (let i = 0; i <= MAX_PREVIEWS; i++) sut.set(`s${i}`, preview(i));
    sut.set('s0', preview(MAX_PREVIEWS + 1)); // s0 was dropped; set again it is the newest
    sut.set('extra', preview(MAX_PREVIEWS + 2));
    expect(sut.size).toBe(MAX_PREVIEWS);
    expect(sut.has('s1', MAX_PREVIEWS + 3)).toBe(false);
    expect(sut.has('s0', MAX_PREVIEWS + 3)).toBe(true);
    expect(sut.has('extra', MAX_PREVIEWS + 3)).toBe(true);
  });
});
