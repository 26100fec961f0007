/**
 * Admission of new connections on one listener: at most `maxConnections` open at once, and at most
 * `maxPerAddress` from one remote address. Pure bookkeeping (no sockets), so the decision is unit-tested;
 * `guardListener` wires it to a net.Server.
 */
export interface ConnectionCaps {
  maxConnections: number;
  maxPerAddress: number;
}

export type GateRefusal = 'listener-full' | 'address-full';

export class ConnectionGate {
  private open = 0;
  private readonly perAddress = new Map<string, number>();
  refused = 0;

  constructor(private readonly caps: ConnectionCaps) {}

  /** Takes a slot for a connection from `address`, or says why not. Every admit is paired with one release. */
  admit(address: string): GateRefusal | null {
    if (this.open >= this.caps.maxConnections) return this.refuse('listener-full');
    const n = this.perAddress.get(address) ?? 0;
    if (n >= this.caps.maxPerAddress) return this.refuse('address-full');
    this.open += 1;
    this.perAddress.set(address, n + 1);
    return null;
  }

  release(address: string): void {
    const n = this.perAddress.get(address);
    if (n === undefined) return;
    this.open -= 1;
    if (n <= 1) this.perAddress.delete(address);
    else this.perAddress.set(address, n - 1);
  }

  get openConnections(): number {
    return this.open;
  }

  get addresses(): number {
    return this.perAddress.size;
  }

  private refuse(why: GateRefusal): GateRefusal {
    this.refused += 1;
    return why;
  }
}
