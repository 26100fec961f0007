import { readFileSync } from 'node:fs';
import type Redis from 'ioredis';
import { percentile } from '../lib/report';

/** What one shard (or the one Redis) saturates at, for the projection (docs/BENCHMARKS.md, "The bus"). */
export const SHARD_CPU_S_PER_S = 0.8;
export const SHARD_MAX_CLIENTS = 10_000;

export type MessageKind = 'request' | 'reply' | 'heartbeat' | 'relayStats';

/**
 * Delivered messages and their publish-to-delivery latency (the payload's `sentAt`, this process's
 * performance.now(): every publisher and subscriber runs in the bench process). Counts only while `on`.
 */
export class Recorder {
  on = false;
  readonly counts: Record<MessageKind, number> = { request: 0, reply: 0, heartbeat: 0, relayStats: 0 };
  readonly latencies: Record<MessageKind, number[]> = {
    request: [],
    reply: [],
    heartbeat: [],
    relayStats: [],
  };
  /** Requests that failed or got no reply in time, while `on`. */
  errors = 0;
  firstError: string | undefined;

  delivered(kind: MessageKind, sentAt: unknown): void {
    if (!this.on) return;
    this.counts[kind]++;
    if (typeof sentAt === 'number') this.latencies[kind].push(performance.now() - sentAt);
  }

  failed(err: unknown): void {
    if (!this.on) return;
    this.errors++;
    this.firstError ??= err instanceof Error ? err.message : String(err);
  }

  total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** p50/p99 over every delivered message, and p50 per kind. */
  summary(): { p50: number; p99: number; p50ByKind: Record<string, number> } {
    const all = Object.values(this.latencies)
      .flat()
      .sort((a, b) => a - b);
    const p50ByKind: Record<string, number> = {};
    for (const [kind, list] of Object.entries(this.latencies)) {
      if (list.length)
        p50ByKind[kind] = round(
          percentile(
            [...list].sort((a, b) => a - b),
            50,
          ),
          3,
        );
    }
    return { p50: percentile(all, 50), p99: percentile(all, 99), p50ByKind };
  }
}

/** `INFO` text as a map of its `field:value` lines. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}

export interface RedisSample {
  /** used_cpu_sys + used_cpu_user, summed over the shards. */
  cpuS: number;
  connectedClients: number;
  /** PSUBSCRIBE patterns (pubsub_patterns) and SSUBSCRIBE channels (pubsubshard_channels). */
  patterns: number;
  shardChannels: number;
  /** Calls so far of each pub/sub command (INFO commandstats), summed: publish, spublish, subscribe, unsubscribe. */
  calls: Record<string, number>;
}

const COUNTED_COMMANDS = ['publish', 'spublish', 'subscribe', 'unsubscribe', 'ssubscribe', 'psubscribe'];

/** One INFO per shard (through the bench's own connection to it), summed. */
export async function sampleRedis(shards: Redis[]): Promise<RedisSample> {
  const infos = await Promise.all(
    shards.map(async (r) =>
      parseInfo((await r.call('INFO', 'cpu', 'clients', 'stats', 'commandstats')) as string),
    ),
  );
  const sum = (field: string): number => infos.reduce((s, i) => s + Number(i.get(field) ?? 0), 0);
  return {
    cpuS: sum('used_cpu_sys') + sum('used_cpu_user'),
    connectedClients: sum('connected_clients'),
    patterns: sum('pubsub_patterns'),
    shardChannels: sum('pubsubshard_channels'),
    calls: Object.fromEntries(
      COUNTED_COMMANDS.map((cmd) => [
        cmd,
        infos.reduce((n, i) => n + Number(/calls=(\d+)/.exec(i.get(`cmdstat_${cmd}`) ?? '')?.[1] ?? 0), 0),
      ]),
    ),
  };
}

/**
 * Shards for `nodes` nodes, if a shard saturates at SHARD_CPU_S_PER_S of CPU and SHARD_MAX_CLIENTS
 * connections: max(⌈connections ÷ 10,000⌉, ⌈CPU-s/s needed ÷ 0.8⌉), at the measured per-node figures.
 */
export function shardsFor(
  nodes: number,
  connectionsPerNode: number,
  messagesPerNodePerS: number,
  cpuSPer10kMessages: number,
): number {
  const connections = nodes * connectionsPerNode;
  const cpuSPerS = (nodes * messagesPerNodePerS * cpuSPer10kMessages) / 10_000;
  return Math.max(1, Math.ceil(connections / SHARD_MAX_CLIENTS), Math.ceil(cpuSPerS / SHARD_CPU_S_PER_S));
}

/** This process's soft limit of open files (/proc/self/limits), or Infinity when unreadable. */
export function openFilesLimit(): number {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return !line || line[1] === 'unlimited' ? Infinity : Number(line[1]);
  } catch {
    return Infinity;
  }
}

export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
