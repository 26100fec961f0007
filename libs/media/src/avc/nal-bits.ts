/** Bit-level reading of H.264 and H.265 parameter sets (SPS), shared by avc-sps.ts and hevc-sps.ts. */

/** MSB-first bit reader with exp-Golomb codes (H.264 / H.265 parameter sets); throws RangeError past the end. */
export class BitReader {
  private bit = 0;
  constructor(private readonly b: Buffer) {}

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bit >> 3;
      if (byte >= this.b.length) throw new RangeError('SPS ends early');
      v = v * 2 + ((this.b[byte] >> (7 - (this.bit & 7))) & 1);
      this.bit += 1;
    }
    return v;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new RangeError('exp-Golomb code too long');
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

/** The RBSP of a NAL unit: emulation-prevention bytes (00 00 03) removed, the NAL header byte dropped. */
export function rbsp(nal: Buffer): Buffer {
  const out = Buffer.alloc(nal.length);
  let n = 0;
  let zeros = 0;
  for (let i = 1; i < nal.length; i++) {
    if (zeros >= 2 && nal[i] === 3) {
      zeros = 0;
      continue;
    }
    zeros = nal[i] === 0 ? zeros + 1 : 0;
    out[n++] = nal[i];
  }
  return out.subarray(0, n);
}
