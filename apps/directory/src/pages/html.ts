/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: string | number | boolean | null | undefined): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A template tag that escapes every interpolated value unless it is already `Html`. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((v, i) => {
    const part = Array.isArray(v) ? v.map(piece).join('') : piece(v);
    out += part + strings[i + 1];
  });
  return new Html(out);
}

function piece(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (
    v === null ||
    v === undefined ||
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'boolean'
  ) {
    return escapeHtml(v);
  }
  throw new TypeError(`cannot render a ${typeof v} into HTML`);
}

/**
 * JSON inside a <script type="application/json"> element, a page's data for its script (assets/*.js):
 * `<` is escaped so no `</script>` can close it early, U+2028/U+2029 for old parsers.
 */
export function scriptJson(value: unknown): Html {
  return new Html(
    JSON.stringify(value)
      .replace(/</g, '\\u003c')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029'),
  );
}

/** The page around a body: one stylesheet, the page's own scripts (all from /assets, none inline). */
export function layout(title: string, body: Html, scripts: readonly string[] = []): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Astral</title>
        <link rel="stylesheet" href="/assets/pages.css" />
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">Astral</a>
          <nav aria-label="Directory">
            <a href="/">Streams</a>
            <a href="/nodes">Nodes</a>
            <a href="/network">Network</a>
          </nav>
        </header>
        <main>${body}</main>
        ${scripts.map((s) => html`<script src="/assets/${s}"></script>`)}
      </body>
    </html> `.text;
}
