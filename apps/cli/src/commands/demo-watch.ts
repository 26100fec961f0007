import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { LocalNetwork, ProcessExit } from '@astral/testing';

/** The lines `astral node start` writes about its halves (deaths, restarts), prefixed as it writes them. */
const SUPERVISOR_LINE = /^astral node: (the (agent|relay) (died|is back|exited during start-up).*)$/;

/** New complete lines appended to `file` since `offset`; returns them and the next offset. */
export function readNewLines(
  file: string,
  offset: number,
  maxBytes = 256 * 1024,
): { lines: string[]; offset: number } {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { lines: [], offset };
  }
  if (size < offset) offset = 0; // truncated or replaced
  if (size === offset) return { lines: [], offset };
  const start = Math.max(offset, size - maxBytes);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  const text = buf.toString('utf8');
  const end = text.lastIndexOf('\n');
  if (end < 0) return { lines: [], offset: start };
  return { lines: text.slice(0, end).split('\n'), offset: start + Buffer.byteLength(text.slice(0, end + 1)) };
}

function describeExit(exit: ProcessExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/**
 * While the demo runs: says when a node's agent or relay died and was restarted (read from the node's
 * log, where its supervisor writes it), and when a whole node stopped, with why and the last lines of
 * its log. The rest of the network keeps running. Returns a function that stops watching.
 */
export function watchNetwork(
  net: LocalNetwork,
  log: (line: string) => void,
  quiet: () => boolean,
): () => void {
  const offsets = new Map<string, number>();
  for (const node of net.nodes) offsets.set(node.logFile, readNewLines(node.logFile, 0).offset);
  const scan = (): void => {
    for (const node of net.nodes) {
      const { lines, offset } = readNewLines(node.logFile, offsets.get(node.logFile) ?? 0);
      offsets.set(node.logFile, offset);
      if (quiet()) continue;
      for (const line of lines) {
        const m = SUPERVISOR_LINE.exec(line);
        if (m) log(`astral demo: ${node.name}: ${m[1]}`);
      }
    }
  };
  const timer = setInterval(scan, 1000);
  timer.unref();
  for (const node of net.nodes) {
    node.process.onExit((exit) => {
      if (quiet()) return;
      scan();
      const tail = node.process
        .readLog(4000)
        .split('\n')
        .filter((l) => l.startsWith('astral ') && !l.startsWith('astral node: ready'))
        .slice(-3);
      log(
        `astral demo: ${node.name} (node ${node.nodeId}) stopped (${describeExit(exit)}); the rest of the network keeps running`,
      );
      for (const l of tail) log(`astral demo:   ${node.name} said: ${l}`);
      log(`astral demo:   its log: ${node.logFile}`);
    });
  }
  return () => clearInterval(timer);
}
