import { parseProcNetTcp, probeKeyOf } from './send-queue-probe';

const V4 = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6649 1 0 100 0 0 10 0',
  '   1: 0100007F:1F90 0100007F:D431 01 0003A000:00000000 01:00000014 00000000     0        0 7001 1 0 20 4 30 10 -1',
  '   2: 0100007F:2710 0100007F:D432 01 00000400:00000000 00:00000000 00000000     0        0 7002 1 0 20 4 30 10 -1',
  '  10: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 7003 1 0 20 4 30 10 -1',
].join('\n');
const V6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D440 01 00000010:00000000 00:00000000 00000000     0        0 8001 1 0',
].join('\n');

describe(parseProcNetTcp.name, () => {
  it('maps established rows to their send queue, keyed like probeKeyOf', () => {
    const q = new Map<string, number>();
    parseProcNetTcp(V4, false, q);
    expect(q.get(probeKeyOf(0x1f90, '127.0.0.1', 0xd431))).toBe(0x3a000);
    expect(q.get(probeKeyOf(0x2710, '127.0.0.1', 0xd432))).toBe(0x400);
    expect(q.size).toBe(3); // the listening row (0A) is left out
  });

  it('keeps only the rows of the given local ports, whatever their remote port', () => {
    const q = new Map<string, number>();
    parseProcNetTcp(V4, false, q, new Set(['1F90']));
    expect([...q.keys()]).toEqual([probeKeyOf(0x1f90, '127.0.0.1', 0xd431)]);
  });

  it('reads IPv6 rows (IPv4-mapped keyed by address, all by ports) with the same filter', () => {
    const q = new Map<string, number>();
    parseProcNetTcp(V6, true, q, new Set(['1F90']));
    expect(q.get(probeKeyOf(0x1f90, '::ffff:127.0.0.1', 0xd440))).toBe(0x10);
    expect(q.get('1F90>*:D440')).toBe(0x10);
    const other = new Map<string, number>();
    parseProcNetTcp(V6, true, other, new Set(['2710']));
    expect(other.size).toBe(0);
  });
});
