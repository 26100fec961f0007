import fc from 'fast-check';
import { CarrierInfo, DirectoryPatterns, StreamInfo } from '@astral/contracts';
import { listedCarriers } from '@astral/overlay';
import { SimDirectory } from './sim-directory';
import { SimReply } from './sim-network';

const MBIT = 1_000_000;

function ask(d: SimDirectory, pattern: string, body: object): unknown {
  let got: SimReply | undefined;
  d.request(pattern, body, null, (r) => (got = r));
  if (!got?.ok) throw new Error(`${pattern} refused`);
  return got.value;
}

const register = (d: SimDirectory, nodeId: string, uploadLimitBps: number | null) =>
  ask(d, DirectoryPatterns.RegisterNode, {
    nodeId,
    host: `${nodeId}.sim`,
    rtmpPort: 1,
    httpPort: 2,
    forwardPort: 3,
    apiPort: 4,
    ...(uploadLimitBps !== null && { uploadLimitBps }),
    version: 'sim',
    publicKey: `key-${nodeId}`,
  });

describe('SimDirectory', () => {
  it('property: ListCarriers is listedCarriers over every carrier in the directory order (its index changes nothing)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('carry' as const),
        node: fc.nat(39),
        hops: fc.integer({ min: 1, max: 5 }),
      }),
      fc.record({ kind: fc.constant('beat' as const), node: fc.nat(39), committed: fc.nat(6) }),
      fc.record({ kind: fc.constant('drop' as const), node: fc.nat(39) }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.nat(4), { minLength: 40, maxLength: 40 }),
        fc.array(op, { maxLength: 200 }),
        (caps, ops) => {
          const d = new SimDirectory(() => 0);
          register(d, 'src', 4 * MBIT);
          caps.forEach((c, i) => register(d, `n${i}`, c === 4 ? null : c * MBIT));
          const s = ask(d, DirectoryPatterns.CreateStream, { sourceNodeId: 'src', title: 't' }) as StreamInfo;
          ask(d, DirectoryPatterns.AnnounceStream, { streamId: s.streamId, nodeId: 'src', bitrateBps: MBIT });
          // The model: every carrier row in the directory's order, and each node's reported commitment.
          let rows: { nodeId: string; hops: number }[] = [{ nodeId: 'src', hops: 0 }];
          const committed = new Map<string, number>();
          for (const o of ops) {
            const nodeId = `n${o.node}`;
            if (o.kind === 'carry') {
              d.event(DirectoryPatterns.Carrying, {
                streamId: s.streamId,
                nodeId,
                hops: o.hops,
                carrying: true,
              });
              rows = [...rows.filter((r) => r.nodeId !== nodeId), { nodeId, hops: o.hops }];
            } else if (o.kind === 'drop') {
              d.event(DirectoryPatterns.Carrying, { streamId: s.streamId, nodeId, hops: 1, carrying: false });
              rows = rows.filter((r) => r.nodeId !== nodeId);
            } else {
              d.event(DirectoryPatterns.NodeHeartbeat, { nodeId, committedBps: o.committed * MBIT });
              committed.set(nodeId, o.committed * MBIT);
            }
          }
          const limitOf = (id: string) =>
            id === 'src'
              ? 4 * MBIT
              : caps[Number(id.slice(1))] === 4
                ? null
                : caps[Number(id.slice(1))] * MBIT;
          const expected = listedCarriers(
            rows.map((r) => ({
              ...r,
              uploadLimitBps: limitOf(r.nodeId),
              committedBps: committed.get(r.nodeId) ?? 0,
            })),
            MBIT,
          ).map((c) => [c.nodeId, c.hops]);
          const listed = ask(d, DirectoryPatterns.ListCarriers, { streamId: s.streamId }) as CarrierInfo[];
          expect(listed.map((c) => [c.nodeId, c.hops])).toEqual(expected);
        },
      ),
    );
  });
});
