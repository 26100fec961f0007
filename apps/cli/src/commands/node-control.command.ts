import { Command, InvalidArgumentError, Option } from 'commander';
import WebSocket from 'ws';
import {
  errorMessage,
  formatAge,
  formatBps,
  printJson,
  printJsonLine,
  renderRecord,
  renderTable,
  shortId,
} from '../output';

/**
 * `astral node status|settings|nodes|streams|publish|watch|seed|stop|tickets|revoke|leave|events`:
 * one command per action of a node agent's local HTTP API (GET /api/status, PATCH /api/settings, …,
 * and the WebSocket /api/events). Every command takes --node URL and --json.
 */

export const DEFAULT_NODE_URL = 'http://127.0.0.1:7000';
/** POST /watch keeps trying for a ticket for up to 10 s on the node's side. */
const REQUEST_TIMEOUT_MS = 30_000;

interface ControlOptions {
  node: string;
  json?: boolean;
}

/** A failure to show as `astral node <cmd>: <message>` with exit code 1. */
export class NodeApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly fields?: Record<string, string[]>,
  ) {
    super(message);
    this.name = NodeApiError.name;
  }
}

/** The agent API's base URL from --node: http(s) only, no trailing slash. */
export function nodeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new NodeApiError(`--node must be a URL like ${DEFAULT_NODE_URL}, not ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NodeApiError(`--node must be an http:// or https:// URL, not ${JSON.stringify(raw)}`);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

function unreachable(base: string, err: unknown): NodeApiError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code;
  if (code === 'ECONNREFUSED') {
    return new NodeApiError(`no node answers at ${base} (connection refused). Start one with \`astral node start\`, or point --node at its API.`);
  }
  if ((err as Error).name === 'TimeoutError') return new NodeApiError(`the node at ${base} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
  return new NodeApiError(`cannot reach the node at ${base}: ${cause?.message ?? code ?? errorMessage(err)}`);
}

/** Calls the agent's API; a non-2xx answer throws NodeApiError with the API's own message. */
export async function nodeApi<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw unreachable(base, err);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const b = parsed as { message?: unknown; error?: unknown; fields?: Record<string, string[]> } | undefined;
    if (b && typeof b === 'object' && typeof b.message === 'string') {
      throw new NodeApiError(b.message, res.status, typeof b.error === 'string' ? b.error : undefined, b.fields);
    }
    const detail = typeof parsed === 'string' && parsed.trim() ? `: ${parsed.trim().slice(0, 300)}` : '';
    throw new NodeApiError(`${method} ${path} answered HTTP ${res.status}${detail}`, res.status);
  }
  return parsed as T;
}

// The API's answers (apps/node-agent/src/**/*.http.controller.ts).

interface PlayUrls {
  rtmp: string;
  httpFlv: string;
}
interface CarriedStream {
  streamId: string;
  origin: 'publish' | 'upstream';
  path: string[];
  hops: number;
  upstreamNodeId: string | null;
  ticketId: string | null;
  since: number;
  seed: boolean;
  play?: PlayUrls;
}
interface RelayStreamStats {
  streamId: string;
  bitrateBps: number;
  fps: number;
  viewers: number;
  forwards: unknown[];
}
export interface NodeStatus {
  nodeId: string;
  host: string;
  ports: { rtmp: number; http: number; forward: number; api: number };
  role: string;
  supernodeId: string | null;
  members: number | null;
  uploadLimitBps: number | null;
  forwards: number;
  streams: CarriedStream[];
  relay: { egressBps: number; streams: RelayStreamStats[] } | null;
}
interface Settings {
  uploadLimitBps: number | null;
  maxChildren: number;
}
interface NodeInfo {
  nodeId: string;
  host: string;
  rtmpPort: number;
  httpPort: number;
  forwardPort: number;
  apiPort: number;
  supernode: boolean;
  maxChildren: number | null;
  childCount: number;
  uploadLimitBps: number | null;
  lastSeenAt: string;
  version: string;
}
interface NodesReply {
  role: string;
  supernodeId: string | null;
  members: string[];
  directory: NodeInfo[];
}
export interface PublishReply {
  streamId: string;
  key: string;
  rtmpUrl: string;
  publishUrl: string;
  obs: { server: string; streamKey: string };
  play: PlayUrls;
}
export interface WatchReply {
  streamId: string;
  seed: boolean;
  upstreamNodeId: string | null;
  hops: number;
  play: PlayUrls;
}
interface OutgoingTicket {
  ticketId: string;
  streamId: string;
  requesterId: string;
  state: 'offered' | 'confirmed';
  bitrateBps: number;
  expiresAt: number | null;
  createdAt: number;
}
interface IncomingTicket {
  ticketId: string | null;
  streamId: string;
  upstreamNodeId: string | null;
  hops: number;
}
export interface TicketsReply {
  outgoing: OutgoingTicket[];
  incoming: IncomingTicket[];
}

const out = (text: string): void => void process.stdout.write(`${text}\n`);

function streamKind(s: CarriedStream): string {
  if (s.origin === 'publish') return 'published here';
  return s.seed ? 'seeding' : 'watching';
}

function renderStatus(s: NodeStatus): string {
  const relay = s.relay;
  const record: [string, string | number][] = [
    ['node id', s.nodeId],
    ['role', s.role],
    ['supernode', s.role === 'supernode' ? '(this node)' : (s.supernodeId ?? '-')],
    ...(s.members !== null ? [['members', s.members] as [string, number]] : []),
    ['host', s.host],
    ['ports', `rtmp ${s.ports.rtmp}, http-flv ${s.ports.http}, forward ${s.ports.forward}, api ${s.ports.api}`],
    ['upload limit', formatBps(s.uploadLimitBps, 'unlimited')],
    ['upload now', relay ? formatBps(relay.egressBps) : 'relay not reporting yet'],
    ['forwards', s.forwards],
    ['streams', s.streams.length],
  ];
  const parts = [renderRecord(record)];
  if (s.streams.length > 0) {
    const stats = new Map((relay?.streams ?? []).map((r) => [r.streamId, r]));
    parts.push(
      renderTable(
        ['stream', 'kind', 'upstream', 'hops', 'bitrate', 'fps', 'viewers', 'forwards', 'since'],
        s.streams.map((c) => {
          const r = stats.get(c.streamId);
          return [
            c.streamId,
            streamKind(c),
            shortId(c.upstreamNodeId),
            c.hops,
            r ? formatBps(r.bitrateBps) : '-',
            r ? Math.round(r.fps) : '-',
            r ? r.viewers : '-',
            r ? r.forwards.length : '-',
            formatAge(c.since),
          ];
        }),
      ),
    );
  }
  return parts.join('\n');
}

function renderSettings(s: Settings): string {
  return renderRecord([
    ['upload limit', s.uploadLimitBps === 0 ? '0 (never forwards)' : formatBps(s.uploadLimitBps, 'unlimited')],
    ['max children', `${s.maxChildren} (members accepted as a supernode)`],
  ]);
}

function renderNodes(n: NodesReply, self: string | null): string {
  const parts = [
    renderRecord([
      ['role', n.role],
      ['supernode', n.role === 'supernode' ? '(this node)' : (n.supernodeId ?? '-')],
      ['members', n.role === 'supernode' ? n.members.length : '-'],
    ]),
  ];
  const members = new Set(n.members);
  const relation = (id: string): string => {
    if (id === self) return 'this node';
    if (id === n.supernodeId) return 'our supernode';
    if (members.has(id)) return 'our member';
    return '';
  };
  parts.push(
    n.directory.length === 0
      ? 'The directory lists no nodes.'
      : renderTable(
          ['node id', 'address', 'supernode', 'children', 'upload limit', 'last seen', 'version', ''],
          n.directory.map((d) => [
            d.nodeId,
            `${d.host}:${d.rtmpPort}`,
            d.supernode ? 'yes' : 'no',
            d.supernode ? `${d.childCount}/${d.maxChildren ?? '-'}` : '-',
            formatBps(d.uploadLimitBps),
            `${formatAge(d.lastSeenAt)} ago`,
            d.version,
            relation(d.nodeId),
          ]),
        ),
  );
  return parts.join('\n');
}

function renderStreams(list: CarriedStream[]): string {
  if (list.length === 0) return 'This node carries no streams. Watch one with `astral node watch STREAM`.';
  return renderTable(
    ['stream', 'kind', 'upstream', 'hops', 'since', 'play (HTTP-FLV)'],
    list.map((c) => [c.streamId, streamKind(c), shortId(c.upstreamNodeId), c.hops, formatAge(c.since), c.play?.httpFlv ?? '-']),
  );
}

function renderPublished(p: PublishReply): string {
  return [
    renderRecord([
      ['stream id', p.streamId],
      ['play (RTMP)', p.play.rtmp],
      ['play (HTTP-FLV)', p.play.httpFlv],
    ]),
    '',
    'Publish settings. Shown this once: the node keeps only a hash of the key. Keep them secret.',
    `  OBS server:        ${p.obs.server}`,
    `  OBS stream key:    ${p.obs.streamKey}`,
    `  HTTP-FLV ingest:   ${p.publishUrl}`,
    `  (or: astral publish FILE.flv --publish-url '${p.publishUrl}')`,
  ].join('\n');
}

function renderWatch(w: WatchReply): string {
  return renderRecord([
    ['stream id', w.streamId],
    ['mode', w.seed ? 'seeding (carried to forward to others)' : 'watching'],
    ['upstream', w.upstreamNodeId ?? '(source: published here)'],
    ['hops', w.hops],
    ['play (RTMP)', w.play.rtmp],
    ['play (HTTP-FLV)', w.play.httpFlv],
  ]);
}

function renderTickets(t: TicketsReply): string {
  const now = Date.now();
  const outgoing =
    t.outgoing.length === 0
      ? 'Outgoing: none (this node forwards to nobody).'
      : `Outgoing (this node forwards to):\n${renderTable(
          ['ticket', 'stream', 'to node', 'state', 'bitrate', 'age', 'expires'],
          t.outgoing.map((o) => [
            o.ticketId,
            o.streamId,
            shortId(o.requesterId),
            o.state,
            formatBps(o.bitrateBps),
            formatAge(o.createdAt, now),
            o.expiresAt === null ? 'never' : o.expiresAt <= now ? 'now' : `in ${formatAge(now, o.expiresAt)}`,
          ]),
        )}`;
  const incoming =
    t.incoming.length === 0
      ? 'Incoming: none (this node pulls no stream from another).'
      : `Incoming (this node pulls from):\n${renderTable(
          ['ticket', 'stream', 'from node', 'hops'],
          t.incoming.map((i) => [i.ticketId ?? '-', i.streamId, shortId(i.upstreamNodeId), i.hops]),
        )}`;
  return `${outgoing}\n${incoming}`;
}

/** One event on one line for humans: time, type, then the other fields as key=value. */
export function renderEvent(event: Record<string, unknown>): string {
  const at = typeof event.at === 'string' ? new Date(event.at) : new Date();
  const time = Number.isNaN(at.getTime()) ? String(event.at) : at.toLocaleTimeString(undefined, { hour12: false });
  const rest = Object.entries(event)
    .filter(([k]) => k !== 'at' && k !== 'type')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time}  ${(typeof event.type === 'string' ? event.type : '?').padEnd(17)} ${rest}`;
}

/** Follows the node's WebSocket of events until Ctrl-C (exit 0) or until the node closes it (exit 1). */
function followEvents(base: string, json: boolean): Promise<void> {
  const wsUrl = `${base.replace(/^http/, 'ws')}/api/events`;
  return new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { handshakeTimeout: 10_000 });
    let opened = false;
    let stopping = false;
    const stop = (): void => {
      stopping = true;
      ws.close(1000);
      // Do not wait on a node that does not answer the close.
      setTimeout(() => resolve(), 1000).unref();
    };
    ws.on('open', () => {
      opened = true;
      process.stderr.write(`astral node events: following ${wsUrl}; Ctrl-C to stop\n`);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(text) as Record<string, unknown>;
      } catch {
        process.stderr.write(`astral node events: ignored a message that is not JSON: ${text.slice(0, 200)}\n`);
        return;
      }
      if (json) printJsonLine(event);
      else out(renderEvent(event));
    });
    ws.on('unexpected-response', (_req, res) => {
      reject(new NodeApiError(`${wsUrl} refused the WebSocket with HTTP ${res.statusCode}`));
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      if (!opened) reject(unreachable(base, err));
      else if (!stopping) reject(new NodeApiError(`the events connection failed: ${err.message}`));
    });
    ws.on('close', (code) => {
      if (stopping) resolve();
      else if (opened) reject(new NodeApiError(`the node closed the events connection (code ${code}); it may have stopped`));
    });
  });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a whole number of at least 1');
  }
  return n;
}

/** A subcommand with --node and --json, whose action gets the API base URL and turns errors into exit 1. */
function control<A extends unknown[]>(
  parent: Command,
  name: string,
  description: string,
  run: (base: string, opts: ControlOptions & Record<string, unknown>, ...args: A) => Promise<void>,
): Command {
  const cmd = parent.command(name).description(description);
  cmd.addOption(
    new Option('--node <url>', "the node's agent API").default(DEFAULT_NODE_URL).env('ASTRAL_NODE_URL'),
  );
  cmd.option('--json', 'print JSON (for scripts) instead of tables');
  cmd.action(async (...all: unknown[]) => {
    // commander passes the arguments, then the options, then the command.
    const args = all.slice(0, -2) as A;
    const opts = all[all.length - 2] as ControlOptions & Record<string, unknown>;
    const label = `astral node ${name.split(' ')[0]}`;
    try {
      await run(nodeBaseUrl(opts.node), opts, ...args);
    } catch (err) {
      if (err instanceof NodeApiError) {
        const fields = err.fields
          ? Object.entries(err.fields).map(([f, msgs]) => `\n  ${f}: ${msgs.join('; ')}`).join('')
          : '';
        process.stderr.write(`${label}: ${err.message}${fields}\n`);
      } else {
        process.stderr.write(`${label}: ${errorMessage(err)}\n`);
      }
      process.exitCode = 1;
    }
  });
  return cmd;
}

/** Adds the node-control subcommands to `astral node`. */
export function addNodeControlCommands(node: Command): Command {
  control(node, 'status', "the node's id, role, upload limit and streams", async (base, opts) => {
    const s = await nodeApi<NodeStatus>(base, 'GET', '/api/status');
    if (opts.json) printJson(s);
    else out(renderStatus(s));
  });

  control(node, 'settings', 'show the upload limit and supernode capacity, or change them', async (base, opts) => {
    const uploadLimit = opts.uploadLimit as string | undefined;
    const maxChildren = opts.maxChildren as number | undefined;
    const changing = uploadLimit !== undefined || maxChildren !== undefined;
    const s = changing
      ? await nodeApi<Settings>(base, 'PATCH', '/api/settings', { uploadLimit, maxChildren })
      : await nodeApi<Settings>(base, 'GET', '/api/settings');
    if (opts.json) printJson(s);
    else out(`${changing ? 'Settings changed.\n' : ''}${renderSettings(s)}`);
  })
    .option('--upload-limit <rate>', 'new upload limit: 3mbit, 2500k, 800000, 0 (never forward) or unlimited')
    .option('--max-children <n>', 'members accepted when this node is a supernode', positiveInt);

  control(node, 'nodes', "this node's supernode and members, and the nodes the directory knows", async (base, opts) => {
    const n = await nodeApi<NodesReply>(base, 'GET', '/api/nodes');
    if (opts.json) return printJson(n);
    const self = await nodeApi<NodeStatus>(base, 'GET', '/api/status').then(
      (s) => s.nodeId,
      () => null,
    );
    out(renderNodes(n, self));
  });

  control(node, 'streams', 'the streams this node carries (published, watched or seeded)', async (base, opts) => {
    const list = await nodeApi<CarriedStream[]>(base, 'GET', '/api/streams');
    if (opts.json) printJson(list);
    else out(renderStreams(list));
  });

  control(node, 'publish', 'create a stream sourced at this node; prints its play URLs and OBS settings', async (base, opts) => {
    const title = opts.title as string;
    const description = opts.description as string | undefined;
    const p = await nodeApi<PublishReply>(base, 'POST', '/api/streams', { title, ...(description !== undefined && { description }) });
    if (opts.json) printJson(p);
    else out(renderPublished(p));
  })
    .requiredOption('--title <title>', 'stream title')
    .option('--description <text>', 'stream description');

  control<[string]>(node, 'watch', 'get a stream onto this node (a ticket from the best upstream) to play it locally', async (base, opts, stream) => {
    const w = await nodeApi<WatchReply>(base, 'POST', `/api/streams/${encodeURIComponent(stream)}/watch`);
    if (opts.json) printJson(w);
    else out(renderWatch(w));
  }).argument('<stream>', 'stream id');

  control<[string]>(node, 'seed', 'carry a stream without a local player, to forward it to others', async (base, opts, stream) => {
    const w = await nodeApi<WatchReply>(base, 'POST', `/api/streams/${encodeURIComponent(stream)}/seed`);
    if (opts.json) printJson(w);
    else out(renderWatch(w));
  }).argument('<stream>', 'stream id');

  control<[string]>(node, 'stop', 'stop watching or seeding a stream (gives its ticket back)', async (base, opts, stream) => {
    const r = await nodeApi<{ stopped: true }>(base, 'DELETE', `/api/streams/${encodeURIComponent(stream)}/watch`);
    if (opts.json) printJson({ streamId: stream, ...r });
    else out(`Stopped: this node no longer carries ${stream}.`);
  }).argument('<stream>', 'stream id');

  control(node, 'tickets', 'tickets this node gave (outgoing forwards) and holds (incoming streams)', async (base, opts) => {
    const t = await nodeApi<TicketsReply>(base, 'GET', '/api/tickets');
    if (opts.json) printJson(t);
    else out(renderTickets(t));
  });

  control<[string]>(node, 'revoke', 'end an outgoing ticket: stop forwarding to that node', async (base, opts, ticket) => {
    const r = await nodeApi<{ revoked: true }>(base, 'DELETE', `/api/tickets/${encodeURIComponent(ticket)}`);
    if (opts.json) printJson({ ticketId: ticket, ...r });
    else out(`Revoked ticket ${ticket}: the downstream node will look for another upstream.`);
  }).argument('<ticket>', 'ticket id (from `astral node tickets`)');

  control(node, 'leave', 'leave the network gracefully: members re-parent, then the node stops', async (base, opts) => {
    const r = await nodeApi<{ leaving: true }>(base, 'POST', '/api/leave');
    if (opts.json) printJson(r);
    else out(`The node at ${base} is leaving the network and will stop.`);
  });

  control(node, 'events', "print the node's events as they happen, until Ctrl-C", async (base, opts) => {
    await followEvents(base, Boolean(opts.json));
  });

  return node;
}
