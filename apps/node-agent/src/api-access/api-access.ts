import { createHash, timingSafeEqual } from 'node:crypto';
import { AGENT_CONTROL_VALUE, AGENT_EVENTS_PATH } from '@astral/contracts';

/**
 * Who may do what on the node agent's local API: the one decision, as a pure function, behind the
 * HTTP middleware and the WebSocket upgrade (docs/security/agent-api.md).
 *
 * 1. The Host header must name this node (localhost, 127.0.0.1, [::1], the API's address or the
 *    advertised host, any port), or the answer is 421: a DNS-rebound name never gets through.
 * 2. A browser Origin must be the directory's, or the API's own (its Swagger page); any other is 403.
 * 3. Status reads are open. Every other call (each state change, and reads that show the node's
 *    streams and tickets) needs `Authorization: Bearer <token>`, or the directory's origin together
 *    with `X-Astral-Control: 1` (a header no page can send without a preflight, which CORS answers for
 *    the directory's origin only); without either it is 401.
 * 4. A directory page may only ask the node to watch a stream (POST /api/streams/:id/watch, the stream page's
 *    "watch through your own node"); anything else it tries is 403, so a script injected into a directory
 *    page cannot make the node leave, seed or change its limit.
 */

/** What the decision reads of a request (header values as Node gives them). */
export interface ApiRequest {
  method: string;
  /** The request target: path and query. */
  url: string;
  host?: string;
  origin?: string;
  authorization?: string;
  /** The X-Astral-Control header. */
  control?: string;
}

export interface ApiAccessPolicy {
  token: string;
  /** Where the token is kept, to say so in a refusal. */
  tokenFile: string;
  /** The directory's web origin (scheme://host:port), if configured. */
  directoryOrigin?: string;
  /** Host names (lowercase, IPv6 in brackets) a request may be addressed to. */
  hostNames: ReadonlySet<string>;
  apiPort: number;
}

export type ApiRefusal = {
  allowed: false;
  status: 401 | 403 | 421;
  code: 'unauthorized' | 'forbidden' | 'misdirected';
  /** A short reason for the log line. */
  reason: string;
  /** What the caller is told, and what to do. */
  message: string;
};

export type ApiAccess = { allowed: true; via: 'open' | 'token' | 'directory-page' } | ApiRefusal;

/** Reads open to any caller that passed the Host and Origin checks: nothing secret in their answers. */
const OPEN_READS = new Set(['/api/status', '/api/settings', '/api/nodes', AGENT_EVENTS_PATH]);
const OPEN_READ_PREFIXES = ['/api/docs'];
const READ_METHODS = new Set(['GET', 'HEAD']);
/** The calls a directory page may make with X-Astral-Control (besides the open reads). */
const DIRECTORY_PAGE_CALLS: readonly { method: string; path: RegExp }[] = [
  { method: 'POST', path: /^\/api\/streams\/[^/]+\/watch$/ },
];

/** Whether a directory page may make this call: POST /api/streams/:id/watch only. */
export function directoryPageMay(method: string, url: string): boolean {
  const m = method.toUpperCase();
  const path = url.split('?')[0].replace(/\/+$/, '');
  return DIRECTORY_PAGE_CALLS.some((c) => c.method === m && c.path.test(path));
}

/** The names a request may carry in its Host header: loopback, the API's address and the advertised one. */
export function apiHostNames(apiHost: string, advertisedHost: string): Set<string> {
  const bracket = (h: string): string => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);
  return new Set(
    ['localhost', '127.0.0.1', '[::1]', apiHost, advertisedHost].map((h) => bracket(h.toLowerCase())),
  );
}

/** The host name of a Host header, lowercase, without its port (IPv6 stays in brackets). */
export function hostNameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 && (end === h.length - 1 || /^:\d{1,5}$/.test(h.slice(end + 1)))
      ? h.slice(0, end + 1)
      : undefined;
  }
  const m = /^([a-z0-9.-]+)(:\d{1,5})?$/.exec(h);
  return m ? m[1] : undefined;
}

/** An origin as a browser serializes it (scheme://host[:port]), or undefined if it is not a URL origin. */
export function normalizeOrigin(origin: string | undefined): string | undefined {
  if (!origin) return undefined;
  try {
    const o = new URL(origin).origin;
    return o === 'null' ? undefined : o;
  } catch {
    return undefined;
  }
}

/** Whether a call needs the token (or the directory page's header): all but OPTIONS and the open reads. */
export function needsControl(method: string, url: string): boolean {
  const m = method.toUpperCase();
  if (m === 'OPTIONS') return false;
  if (!READ_METHODS.has(m)) return true;
  const path = url.split('?')[0].toLowerCase().replace(/\/+$/, '');
  return !(
    OPEN_READS.has(path) ||
    OPEN_READ_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}-`))
  );
}

/** Compares a `Bearer <token>` header with the token in constant time (of the hashes: equal lengths). */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}

function originAllowed(origin: string, policy: ApiAccessPolicy): 'directory' | 'self' | false {
  if (policy.directoryOrigin && origin === policy.directoryOrigin) return 'directory';
  try {
    const u = new URL(origin);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    return u.protocol === 'http:' && port === policy.apiPort && policy.hostNames.has(u.hostname)
      ? 'self'
      : false;
  } catch {
    return false;
  }
}

export function decideApiAccess(req: ApiRequest, policy: ApiAccessPolicy): ApiAccess {
  const name = hostNameOf(req.host);
  if (!name || !policy.hostNames.has(name)) {
    return {
      allowed: false,
      status: 421,
      code: 'misdirected',
      reason: 'foreign host name',
      message: `this node's API answers only for ${[...policy.hostNames].join(', ')}; call it by one of those names`,
    };
  }
  let origin: 'directory' | 'self' | undefined;
  if (req.origin !== undefined) {
    const allowed = originAllowed(req.origin, policy);
    if (!allowed) {
      return {
        allowed: false,
        status: 403,
        code: 'forbidden',
        reason: 'foreign origin',
        message: `pages of ${req.origin.slice(0, 200)} may not call this node's API; only the directory's pages${policy.directoryOrigin ? ` (${policy.directoryOrigin})` : ''} may`,
      };
    }
    origin = allowed;
  }
  if (!needsControl(req.method, req.url)) return { allowed: true, via: 'open' };
  if (bearerMatches(req.authorization, policy.token)) return { allowed: true, via: 'token' };
  if (origin === 'directory' && req.control === AGENT_CONTROL_VALUE) {
    if (directoryPageMay(req.method, req.url)) return { allowed: true, via: 'directory-page' };
    return {
      allowed: false,
      status: 403,
      code: 'forbidden',
      reason: 'directory page beyond watch',
      message:
        "a directory page may only ask this node to watch a stream (POST /api/streams/<id>/watch); everything else needs the node's API token (Authorization: Bearer <token>)",
    };
  }
  return {
    allowed: false,
    status: 401,
    code: 'unauthorized',
    reason: req.authorization ? 'wrong token' : 'no token',
    message:
      `${req.authorization ? 'wrong API token' : 'this call needs the API token'}: send Authorization: Bearer <token>, ` +
      `the token in ${policy.tokenFile} (the astral CLI reads it from the node's --data-dir, or takes --api-token / ASTRAL_API_TOKEN)` +
      (origin === 'directory' ? '; a directory page sends X-Astral-Control: 1 instead' : ''),
  };
}
