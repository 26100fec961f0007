/**
 * The nesting depth of a JSON text, read from its bytes without parsing it (strings and escapes are
 * skipped), so a body nested thousands of levels deep is refused before any recursive code (JSON.parse's
 * consumers, class-transformer, the validation pipe) walks it. Stops counting once `limit` is passed.
 */
export function jsonDepthExceeds(body: Buffer | string, limit: number): boolean {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i += 1) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i += 1; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
  return false;
}

/** Depth allowed in every JSON body and message Astral accepts; its own messages nest 4 levels at most. */
export const MAX_JSON_DEPTH = 32;
