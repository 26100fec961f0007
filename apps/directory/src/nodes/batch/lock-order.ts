/**
 * Batched writes lock every row they touch until they commit. Two batches that lock the same rows in
 * different orders can deadlock; in one order (node id, as text: the rows' key) one of them simply waits.
 * This sorts a round into that order and puts the results back into the round's order. Pure.
 */
export function inLockOrder<T>(
  items: T[],
  keyOf: (item: T) => string,
): { sorted: T[]; restore: <R>(results: R[]) => R[] } {
  const order = items.map((_, i) => i).sort((a, b) => compare(keyOf(items[a]), keyOf(items[b])));
  return {
    sorted: order.map((i) => items[i]),
    restore: <R>(results: R[]): R[] => {
      const out = new Array<R>(items.length);
      order.forEach((original, position) => (out[original] = results[position]));
      return out;
    },
  };
}

/** Code-unit order, which PostgreSQL's "C" collation and SQLite's BINARY share (not localeCompare). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
