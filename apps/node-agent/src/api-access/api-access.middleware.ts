import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger, NodeConfig, apiTokenPath } from '@astral/config';
import { AGENT_CONTROL_HEADER, AstralError } from '@astral/contracts';
import { LogThrottle } from '@astral/net';
import {
  ApiAccess,
  ApiAccessPolicy,
  ApiRefusal,
  apiHostNames,
  decideApiAccess,
  normalizeOrigin,
} from './api-access';

/** The policy of this node's API: its token, the directory's origin and the names it answers for. */
export function apiAccessPolicy(config: NodeConfig, token: string): ApiAccessPolicy {
  return {
    token,
    tokenFile: config.apiToken ? 'ASTRAL_API_TOKEN (set for this node)' : apiTokenPath(config.dataDir),
    directoryOrigin: normalizeOrigin(config.directoryOrigin),
    hostNames: apiHostNames(config.apiHost, config.host),
    apiPort: config.apiPort,
  };
}

/** One line per caller, kind of refusal and path per 10 s: a page calling in a loop cannot flood the log. */
const refusals = new LogThrottle();

/** Decides one request (HTTP or WebSocket upgrade) and logs a refusal, without any secret. */
export function checkApiAccess(req: IncomingMessage, policy: ApiAccessPolicy, log: Logger): ApiAccess {
  const header = (name: string): string | undefined => {
    const v = req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const access = decideApiAccess(
    {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      host: header('host'),
      origin: header('origin'),
      authorization: header('authorization'),
      control: header(AGENT_CONTROL_HEADER),
    },
    policy,
  );
  const suppressed = access.allowed
    ? null
    : refusals.take(
        `${req.socket.remoteAddress ?? ''}|${access.status}|${access.reason}|${req.url?.split('?')[0].slice(0, 200) ?? ''}`,
      );
  if (!access.allowed && suppressed !== null) {
    const clip = (s: string | undefined): string | undefined => s?.slice(0, 200);
    log.warn(
      {
        status: access.status,
        reason: access.reason,
        method: clip(req.method),
        path: clip(req.url?.split('?')[0]),
        host: clip(header('host')),
        origin: clip(header('origin')),
        remote: req.socket.remoteAddress,
        ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
      },
      'agent API call refused',
    );
  }
  return access;
}

export function refusalBody(refusal: ApiRefusal): ReturnType<AstralError['toBody']> {
  return new AstralError(refusal.code, refusal.message).toBody();
}

/** Express middleware: refuses a request before any route or CORS handling sees it. */
export function apiAccessMiddleware(
  policy: ApiAccessPolicy,
  log: Logger,
): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const access = checkApiAccess(req, policy, log);
    if (access.allowed) return next();
    res.statusCode = access.status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    if (access.status === 401) res.setHeader('www-authenticate', 'Bearer realm="astral-node"');
    res.end(JSON.stringify(refusalBody(access)));
  };
}

/**
 * Chromium's Private Network Access: a page of a public directory that calls the viewer's node on loopback is
 * preflighted with `Access-Control-Request-Private-Network: true`, and the call goes ahead only if the answer
 * says `Access-Control-Allow-Private-Network: true`. Said to the directory's origin only, before CORS answers.
 */
export function privateNetworkPreflight(
  policy: ApiAccessPolicy,
): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    if (
      req.method === 'OPTIONS' &&
      req.headers['access-control-request-private-network'] === 'true' &&
      policy.directoryOrigin !== undefined &&
      normalizeOrigin(req.headers.origin) === policy.directoryOrigin
    ) {
      res.setHeader('Access-Control-Allow-Private-Network', 'true');
    }
    next();
  };
}
