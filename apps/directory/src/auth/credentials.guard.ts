import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AstralError, NodeSignatureHeaders, SIGNED_REQUEST_WINDOW_MS } from '@astral/contracts';
import { ReplayGuard, readSignedRequestClaim, verifySignedRequest } from '@astral/identity';
import { NodesService } from '../nodes/nodes.service';
import { ACTOR_PROPERTY, Actor, OPERATOR, nodeActor } from './actor';
import { NODE_ACCESS, NodeAccess } from './node-access';
import { OperatorToken, bearerToken } from './operator-token';

/** Methods that change nothing: public, never asked for credentials. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A request as the guard sees it: express's, with the raw body main.ts keeps for the signature's hash. */
type CredentialRequest = Request & { rawBody?: Buffer; [ACTOR_PROPERTY]?: Actor };

const HOW =
  "sign the request as the node (X-Astral-Node, X-Astral-Timestamp, X-Astral-Nonce, X-Astral-Signature; see docs/DIRECTORY.md) or send the operator's token (Authorization: Bearer <ASTRAL_OPERATOR_TOKEN>)";

/**
 * Every mutating HTTP route needs credentials; reads stay public. The operator's bearer token may do
 * everything. A node's signature (http-signature.ts of @astral/identity, checked with the key bound to the node,
 * or for registration the key in the body) may change that node's own records only: the route's NodeAccess says
 * where the request names the node. 401 for missing or invalid credentials, 403 for a valid signer acting for
 * another node; each with a warn line naming the route and the claimed node, never the token or signature.
 */
@Injectable()
export class CredentialsGuard implements CanActivate {
  private readonly logger = new Logger('Credentials');
  private readonly replays = new ReplayGuard(SIGNED_REQUEST_WINDOW_MS);

  constructor(
    private readonly reflector: Reflector,
    private readonly nodes: NodesService,
    private readonly operator: OperatorToken,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<CredentialRequest>();
    if (READS.has(req.method)) return true;
    const access = this.reflector.get<NodeAccess | undefined>(NODE_ACCESS, ctx.getHandler());
    req[ACTOR_PROPERTY] = await this.authenticate(req, access);
    return true;
  }

  private async authenticate(req: CredentialRequest, access: NodeAccess | undefined): Promise<Actor> {
    const route = `${req.method} ${(req.route as { path?: string } | undefined)?.path ?? req.path}`;
    const claimed = req.headers[NodeSignatureHeaders.node];
    const refuse = (code: 'unauthorized' | 'forbidden', message: string): never => {
      this.logger.warn({
        msg: 'request refused: credentials',
        route,
        nodeId: claimed,
        status: code,
        reason: message,
      });
      throw new AstralError(code, message);
    };

    const bearer = bearerToken(req.headers.authorization);
    if (bearer.kind === 'malformed')
      return refuse('unauthorized', `Authorization must be "Bearer <token>"; ${HOW}`);
    if (bearer.kind === 'token') {
      if (!this.operator.configured)
        return refuse(
          'forbidden',
          'operator access is off: this directory has no ASTRAL_OPERATOR_TOKEN; set one (at least 32 characters) and restart it',
        );
      if (!this.operator.matches(bearer.token)) return refuse('unauthorized', 'wrong operator token');
      return OPERATOR;
    }

    const read = readSignedRequestClaim(req.headers);
    if (read.kind === 'none') {
      if (!access && !this.operator.configured)
        return refuse(
          'forbidden',
          `${route} is the operator's, and this directory has no ASTRAL_OPERATOR_TOKEN`,
        );
      return refuse(
        'unauthorized',
        access ? `${route} needs credentials: ${HOW}` : `${route} needs the operator's token`,
      );
    }
    if (read.kind === 'malformed') return refuse('unauthorized', read.reason);
    const { claim } = read;
    if (!access) return refuse('forbidden', `${route} is the operator's; a node may not call it`);

    const body = (req.body ?? {}) as Record<string, unknown>;
    const key = access.keyInBody ? body[access.keyInBody] : await this.boundKey(claim.nodeId);
    if (typeof key !== 'string')
      return refuse(
        'unauthorized',
        access.keyInBody
          ? `the body carries no ${access.keyInBody} to check the signature with`
          : `node ${claim.nodeId} has no recorded key: it must register (with its public key) first`,
      );
    const verdict = verifySignedRequest(
      claim,
      { method: req.method, pathWithQuery: req.originalUrl, body: req.rawBody },
      key,
      this.replays,
    );
    if (!verdict.ok) return refuse('unauthorized', verdict.message);

    if (access.actingFor !== 'service') {
      const target =
        'param' in access.actingFor ? req.params[access.actingFor.param] : body[access.actingFor.body];
      if (target !== claim.nodeId)
        return refuse(
          'forbidden',
          `node ${claim.nodeId} may change only its own records, not node ${String(target)}'s`,
        );
    }
    return nodeActor(claim.nodeId);
  }

  /** The node's bound key; a database that cannot say is a 503 to retry, not a refusal of the node. */
  private async boundKey(nodeId: string): Promise<string | undefined> {
    try {
      return await this.nodes.boundKey(nodeId);
    } catch (err) {
      throw new AstralError(
        'unavailable',
        `the directory could not check the signature of node ${nodeId}: its database is unreachable (${(err as Error).message}); retry in a few seconds`,
      );
    }
  }
}
