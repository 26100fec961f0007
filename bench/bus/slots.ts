import Redis from 'ioredis';

/** CRC16/XMODEM, the checksum Redis Cluster takes of a key (or of its `{hash tag}`) mod 16384. */
function crc16(bytes: Buffer): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The cluster slot of a key or sharded channel (CLUSTER KEYSLOT): a non-empty `{…}` hash tag decides. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key)) % 16384;
}

/** Which master serves each slot, read once from CLUSTER SLOTS. */
export class SlotMap {
  private constructor(
    private readonly owner: Uint16Array,
    readonly ports: number[],
  ) {}

  static async read(redis: Redis): Promise<SlotMap> {
    const ranges = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const ports = [...new Set(ranges.map((r) => Number(r[2][1])))].sort((a, b) => a - b);
    const owner = new Uint16Array(16384);
    for (const [from, to, master] of ranges) owner.fill(ports.indexOf(Number(master[1])), from, to + 1);
    return new SlotMap(owner, ports);
  }

  /** The index in `ports` of the master serving `channel`'s slot. */
  shardOf(channel: string): number {
    return this.owner[keySlot(channel)];
  }
}
