import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * Which players are on the node's own machine or network (`--local-players`): served, never charged to the upload
 * budget. `loopback`, `none`, or `loopback,` followed by addresses or CIDR blocks (e.g. `loopback,10.89.0.0/24` for
 * a LAN or container network whose players do not cross the node's uplink).
 */
export type LocalPlayers = string;

/** The rule `--local-players` accepts (libs/config validates with it). */
export const LOCAL_PLAYERS_PATTERN = /^(none|loopback(,[0-9A-Fa-f:.]{2,45}(\/\d{1,3})?){0,32})$/;

const compiled = new Map<string, BlockList | null>();

/** The extra local blocks of a `loopback,…` rule, once per rule. */
function extraBlocks(mode: string): BlockList | null {
  let list = compiled.get(mode);
  if (list !== undefined) return list;
  list = null;
  for (const entry of mode.split(',').slice(1)) {
    const [addr, bits] = entry.split('/');
    const family = isIP(addr);
    if (family === 0) continue;
    list ??= new BlockList();
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  if (compiled.size < 16) compiled.set(mode, list);
  return list;
}

/**
 * Is a player at `address` (a socket's remoteAddress) local? With `loopback`: 127.0.0.0/8, ::1 and IPv4-mapped
 * 127.x (::ffff:127.0.0.1), and any address or block listed after it. With `none`: never. An unknown address is
 * not local, so it counts.
 */
export function isLocalPlayer(address: string | undefined, mode: LocalPlayers): boolean {
  if (mode === 'none' || !address) return false;
  const a = address.toLowerCase();
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  if (isIPv4(v4) && v4.startsWith('127.')) return true;
  const extra = mode === 'loopback' ? null : extraBlocks(mode);
  if (!extra) return false;
  return isIPv4(v4) ? extra.check(v4, 'ipv4') : isIP(a) === 6 && extra.check(a, 'ipv6');
}
