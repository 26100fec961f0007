import { waitFor } from '@astral/testing';
import { BudgetedSender, UploadBudget } from './upload-budget';

/** A sender with an endless (or bounded) supply of items of one size; it records what it was let send. */
class Sender implements BudgetedSender {
  sent = 0;
  sentItems = 0;
  pumps = 0;
  room = true;

  constructor(
    readonly itemBytes: number,
    public items = Infinity,
  ) {}

  headBytes(): number {
    return this.items > 0 && this.room ? this.itemBytes : 0;
  }

  sendHead(): void {
    this.items -= 1;
    this.sent += this.itemBytes;
    this.sentItems += 1;
  }

  pump(): void {
    this.pumps += 1;
  }
}

describe('UploadBudget', () => {
  let now: number;
  const clock = (): number => now;
  let budget: UploadBudget;

  beforeEach(() => {
    now = 0;
  });

  afterEach(() => budget.close());

  it('unlimited, it grants everything and only counts', () => {
    budget = new UploadBudget(null, clock);
    expect(budget.limited).toBe(false);
    expect(budget.limitBps).toBeNull();
    expect(budget.take(10_000_000)).toBe(true);
    expect(budget.take(5)).toBe(true);
    expect(budget.grantedBytes).toBe(10_000_005);
  });

  it('limited, it grants the burst (100 ms of the rate, at least 64 KiB) and then what the clock refills', () => {
    budget = new UploadBudget(8_000_000, clock); // 1 000 000 bytes/s, burst 100 000 bytes
    expect(budget.limitBps).toBe(8_000_000);
    expect(budget.take(100_000)).toBe(true);
    expect(budget.take(1)).toBe(false);
    now = 10; // 10 000 bytes later
    expect(budget.take(10_001)).toBe(false);
    expect(budget.take(10_000)).toBe(true);
    expect(budget.grantedBytes).toBe(110_000);

    budget.setLimit(800_000); // 100 000 bytes/s: the burst floor of 64 KiB applies
    now = 10_000;
    expect(budget.take(65_536)).toBe(true);
    expect(budget.take(1)).toBe(false);
  });

  it('serves waiting senders by deficit round robin: equal bytes whatever their item sizes', async () => {
    budget = new UploadBudget(8_000_000, clock);
    const small = new Sender(1000);
    const large = new Sender(4000);
    expect(budget.take(100_000)).toBe(true); // the burst is spent: both wait for the refill
    budget.wait(small);
    budget.wait(large);
    expect(budget.contended).toBe(true);
    expect(small.sent + large.sent).toBe(0);
    for (let i = 0; i < 20; i++) {
      const before = small.sent + large.sent;
      now += 100; // 100 000 more bytes of budget, served when the budget's timer fires
      await waitFor(() => small.sent + large.sent > before + 96_000, { timeoutMs: 5000, intervalMs: 2 });
    }
    expect(small.sent + large.sent).toBeGreaterThan(1_900_000);
    // At any moment one may be ahead by at most a turn: the 8 KiB quantum plus one item.
    expect(Math.abs(small.sent - large.sent)).toBeLessThanOrEqual(8 * 1024 + 4000);
    expect(budget.grantedBytes).toBe(100_000 + small.sent + large.sent);
  });

  it('wakes itself when the tokens for the next item are due', async () => {
    budget = new UploadBudget(8_000_000, clock);
    const s = new Sender(50_000);
    budget.wait(s);
    expect(s.sentItems).toBe(2);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.sentItems).toBe(2); // the clock has not moved
    now += 50;
    await waitFor(() => s.sentItems === 3, { timeoutMs: 5000, intervalMs: 5 });
  });

  it('forgets a sender with nothing to send, and one that closed', async () => {
    budget = new UploadBudget(8_000_000, clock);
    const done = new Sender(1000, 3);
    budget.wait(done);
    expect(done.sentItems).toBe(3);
    expect(budget.contended).toBe(false);

    const full = new Sender(100_000);
    const gone = new Sender(1000);
    budget.wait(full); // 97 000 bytes left: it waits for the timer
    budget.wait(gone);
    expect(budget.contended).toBe(true);
    budget.forget(full);
    budget.forget(gone);
    expect(budget.contended).toBe(false);
    now += 1000;
    await new Promise((r) => setTimeout(r, 20)); // the timer fires with no one waiting
    expect([full.sent, gone.sent]).toEqual([0, 0]);
    const next = new Sender(1000, 1);
    budget.wait(next);
    expect(next.sent).toBe(1000);
  });

  it('lifting the limit hands every waiting sender back to its own pump', () => {
    budget = new UploadBudget(800_000, clock);
    expect(budget.take(65_536)).toBe(true); // the whole burst
    const a = new Sender(1000);
    const b = new Sender(1000);
    budget.wait(a);
    budget.wait(b);
    expect(a.sentItems + b.sentItems).toBe(0);
    budget.setLimit(null);
    expect(budget.limited).toBe(false);
    expect(budget.contended).toBe(false);
    expect([a.pumps, b.pumps]).toEqual([1, 1]);
    expect(budget.take(1_000_000)).toBe(true);
  });
});
