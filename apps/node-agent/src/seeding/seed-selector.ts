/**
 * Which live streams a seeder may seed (ASTRAL_SEED, `--seed`): `all`, or a comma-separated list of
 * alternatives, any of which may match:
 * - `id:<glob>`: the stream id matches the glob (`*` any characters, `?` one), e.g. `id:news-*`;
 * - `title:<text>`: the title contains the text, case-insensitively, e.g. `title:keynote`;
 * - a bare `<glob>` is `id:<glob>`.
 */
export interface SeedSelector {
  /** The selector as configured, for logs. */
  readonly text: string;
  matches(stream: { streamId: string; title: string }): boolean;
}

/** What ASTRAL_SEED accepts: `all`, or id globs and title substrings (no commas inside one). */
export const SEED_SELECTOR_PATTERN = /^(all|((id:|title:)?[^,]{1,200})(,(id:|title:)?[^,]{1,200})*)$/;

const globToRegExp = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('')}$`,
  );

/** Parses a selector; throws with the reason for one SEED_SELECTOR_PATTERN refuses. */
export function parseSeedSelector(text: string): SeedSelector {
  const trimmed = text.trim();
  if (!SEED_SELECTOR_PATTERN.test(trimmed))
    throw new Error(
      `seed selector ${JSON.stringify(text)}: use all, id:<glob> or title:<text>, comma-separated`,
    );
  if (trimmed === 'all') return { text: trimmed, matches: () => true };
  const tests = trimmed.split(',').map((alt): ((s: { streamId: string; title: string }) => boolean) => {
    if (alt.startsWith('title:')) {
      const needle = alt.slice('title:'.length).toLowerCase();
      return (s) => s.title.toLowerCase().includes(needle);
    }
    const re = globToRegExp(alt.startsWith('id:') ? alt.slice('id:'.length) : alt);
    return (s) => re.test(s.streamId);
  });
  return { text: trimmed, matches: (s) => tests.some((t) => t(s)) };
}
