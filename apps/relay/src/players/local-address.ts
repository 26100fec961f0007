import { isIPv4 } from 'node:net';

/** Which players are on the node's own machine (`--local-players`): served, never charged to the upload budget. */
export type LocalPlayers = 'loopback' | 'none';

/**
 * Is a player at `address` (a socket's remoteAddress) local? With `loopback`: 127.0.0.0/8, ::1 and
 * IPv4-mapped 127.x (::ffff:127.0.0.1). With `none`: never. An unknown address is not local, so it counts.
 */
export function isLocalPlayer(address: string | undefined, mode: LocalPlayers): boolean {
  if (mode === 'none' || !address) return false;
  const a = address.toLowerCase();
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIPv4(v4) && v4.startsWith('127.');
}
