import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  FORWARD_PROOF_WINDOW_MS,
  ReplayGuard,
  generateNodeKeys,
  signForwardProof,
  signTicketToken,
  verifyForwardProof,
  verifyTicketToken,
} from '@astral/identity';
import { parseFlags, report } from './lib/report';

/** Runs `op` for about `ms` (after a short warm-up) and gives ops/s and µs/op of CPU time on this thread. */
function measure(op: (i: number) => void, ms: number): { opsPerSec: number; usPerOp: number } {
  for (let i = 0; i < 200; i++) op(i);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) for (let k = 0; k < 100; k++) op(n++);
  const used = process.cpuUsage(cpu0);
  const cpuUs = used.user + used.system;
  const wallMs = performance.now() - t0;
  return { opsPerSec: (n / wallMs) * 1000, usPerOp: cpuUs / n };
}

/**
 * `npm run bench -- tickets [--ms 1000] [--json file]`: CPU per signed message of the ticket capabilities
 * (docs/security/tickets.md): signing a token (the agent at confirm and every refresh), verifying it and
 * verifying a proof of possession (the relay on every pull), signing a proof (the pulling relay).
 */
export function ticketsBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const ms = Number(flags.get('ms') ?? 1000);
  const upstream = generateNodeKeys();
  const downstream = generateNodeKeys();
  const upstreamNodeId = randomUUID();
  const ticketId = randomUUID();
  const claims = {
    ticketId,
    streamId: 'bench-stream',
    upstreamNodeId,
    downstreamNodeId: randomUUID(),
    downstreamKey: downstream.publicKey,
    expiresAt: Date.now() + 3_600_000,
  };
  const token = signTicketToken(upstream, claims);
  const proofs = Array.from({ length: 20_000 }, () => signForwardProof(downstream, ticketId, upstreamNodeId));
  const guard = new ReplayGuard(FORWARD_PROOF_WINDOW_MS, 10_000_000);
  const now = Date.now();
  let bad = 0;
  const rows = {
    'token sign': measure(() => signTicketToken(upstream, claims), ms),
    'token verify': measure(() => {
      if (!verifyTicketToken(token, upstream.publicKey, now, { upstreamNodeId }).ok) bad++;
    }, ms),
    'proof sign': measure(() => signForwardProof(downstream, ticketId, upstreamNodeId), ms),
    // Each proof once (as the relay takes it); the list wraps, so later rounds count as replays: the
    // signature is checked before the nonce either way, so the cost is the same.
    'proof verify': measure((i) => {
      verifyForwardProof(proofs[i % proofs.length], downstream.publicKey, ticketId, upstreamNodeId, guard);
    }, ms),
  };
  if (bad > 0) throw new Error(`${bad} token verifications failed`);
  const result = Object.fromEntries(
    Object.entries(rows).map(([k, v]) => [k, { opsPerSec: Math.round(v.opsPerSec), usPerOp: v.usPerOp }]),
  );
  report('ticket capabilities (CPU per op)', { tokenLength: token.length, ...result }, flags.get('json'));
  return Promise.resolve();
}
