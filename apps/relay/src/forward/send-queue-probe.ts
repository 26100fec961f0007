import { readFile } from 'node:fs/promises';

/** A socket whose kernel send queue the probe tracks. */
export interface ProbedSocket {
  /** Remote address and port of the socket, and the local port (to tell our sockets apart). */
  readonly probeKey: string;
  /** An IPv6 socket (IPv4-mapped included) is listed in /proc/net/tcp6, an IPv4 one in /proc/net/tcp. */
  readonly probeV6: boolean;
  /** Called with the bytes in the kernel's send queue (written, not yet acknowledged by the peer). */
  onKernelQueue(bytes: number): void;
}

/** "127.0.0.1" → "0100007F" (the host-order hex /proc/net/tcp uses). Null for anything else. */
export function procHexIPv4(address: string): string | null {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  const parts = v4.split('.');
  if (parts.length !== 4) return null;
  return parts
    .map((p) => Number(p).toString(16).toUpperCase().padStart(2, '0'))
    .reverse()
    .join('');
}

export function probeKeyOf(
  localPort: number,
  remoteAddress: string | undefined,
  remotePort: number | undefined,
): string {
  const ip = remoteAddress ? (procHexIPv4(remoteAddress) ?? '*') : '*';
  return `${localPort.toString(16).toUpperCase().padStart(4, '0')}>${ip}:${(remotePort ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Parses /proc/net/tcp{,6}: probe key → tx_queue bytes. IPv6 rows are keyed by ports only ('*').
 * With `localPorts` (hex, as in the file), rows of other local ports are skipped before they are split:
 * on a busy host the file lists every socket, and only the forward server's own matter.
 */
export function parseProcNetTcp(
  text: string,
  v6: boolean,
  into: Map<string, number>,
  localPorts?: ReadonlySet<string>,
): void {
  // Rows are "%4d: %08X:%04X %08X:%04X %02X %08X:%08X ..." (IPv6: 32 hex digits of address).
  const portAt = 2 + (v6 ? 32 : 8) + 1;
  let start = text.indexOf('\n') + 1;
  while (start > 0 && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const row = start;
    start = end + 1;
    if (localPorts) {
      const colon = text.indexOf(':', row);
      if (colon < 0 || colon >= end || !localPorts.has(text.slice(colon + portAt, colon + portAt + 4)))
        continue;
    }
    const cols = text.slice(row, end).trim().split(/\s+/);
    if (cols.length < 5 || cols[3] !== '01') continue; // ESTABLISHED only
    const [localAddr, localPort] = cols[1].split(':');
    const [remAddr, remPort] = cols[2].split(':');
    if (!localAddr || !remAddr) continue;
    const tx = parseInt(cols[4].split(':')[0], 16);
    const ip = v6 ? (remAddr.startsWith('0000000000000000FFFF0000') ? remAddr.slice(24) : '*') : remAddr;
    into.set(`${localPort}>${ip}:${remPort}`, tx);
    if (v6) into.set(`${localPort}>*:${remPort}`, tx);
  }
}

/**
 * Reads the kernel's send queue of the forward sockets from /proc/net/tcp. Node only shows the bytes it
 * still holds itself; a downstream that stops reading first fills the kernel's socket buffers (several MB
 * on Linux, tens of seconds of video), and the relay would otherwise see no backpressure at all. Every
 * `idleIntervalMs` while all queues are short, every `busyIntervalMs` once one holds `busyBytes` or more:
 * the kernel writes out a row for every socket on the host for each read, so a relay among many on one
 * machine should not read it more often than it needs. Linux only; elsewhere the probe does nothing
 * (backpressure is then seen once the kernel buffer is full).
 */
export class SendQueueProbe {
  private readonly sockets = new Set<ProbedSocket>();
  private timer: NodeJS.Timeout | null = null;
  private disabled = process.platform !== 'linux';
  private busy = false;

  constructor(
    private readonly busyIntervalMs = 500,
    private readonly idleIntervalMs = 1500,
    private readonly busyBytes = 64 * 1024,
  ) {}

  add(socket: ProbedSocket): void {
    if (this.disabled) return;
    this.sockets.add(socket);
    if (!this.timer) this.schedule();
  }

  remove(socket: ProbedSocket): void {
    this.sockets.delete(socket);
    if (this.sockets.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.timer = setTimeout(
      () => {
        void this.probe().finally(() => {
          if (this.timer && this.sockets.size > 0 && !this.disabled) this.schedule();
          else this.timer = null;
        });
      },
      this.busy ? this.busyIntervalMs : this.idleIntervalMs,
    );
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    if (this.sockets.size === 0) return;
    const queues = new Map<string, number>();
    // Each file costs a walk of the kernel's whole TCP hash table: read only the family in use.
    const sockets = [...this.sockets];
    const read = (file: string, wanted: boolean) =>
      wanted ? readFile(file, 'latin1').catch(() => '') : Promise.resolve('');
    const [v4, v6] = await Promise.all([
      read(
        '/proc/net/tcp',
        sockets.some((s) => !s.probeV6),
      ),
      read(
        '/proc/net/tcp6',
        sockets.some((s) => s.probeV6),
      ),
    ]);
    if (!v4 && !v6) {
      this.disabled = true;
      this.stop();
      return;
    }
    const ports = new Set(sockets.map((s) => s.probeKey.slice(0, s.probeKey.indexOf('>'))));
    parseProcNetTcp(v4, false, queues, ports);
    parseProcNetTcp(v6, true, queues, ports);
    let busy = false;
    for (const s of this.sockets) {
      const bytes = queues.get(s.probeKey) ?? 0;
      if (bytes >= this.busyBytes) busy = true;
      s.onKernelQueue(bytes);
    }
    this.busy = busy;
  }
}
