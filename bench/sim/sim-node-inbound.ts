/**
 * What reaches a simulated node's agent, handed to the machine that owns it, as the agent's controllers do:
 * ticket requests, confirms and heartbeats to the ticket server (with the facts it needs: what this node
 * carries, the requester's listed key, the relay's rates), membership traffic to the membership machine,
 * a supernode's carrier query with this node's own carrying, and the relay's reports to the watching
 * machine (a lost pull, an ended stream) and the ticket server (a closed forward).
 */
import {
  AgentPatterns,
  type MembershipHeartbeat,
  type MembershipJoin,
  type TicketConfirm,
  type TicketHeartbeat,
  type TicketRequest,
} from '@astral/contracts';
import type { SimReply } from './sim-network';
import type { SimNode } from './sim-node';

export function routeRequest(
  node: SimNode,
  pattern: string,
  body: unknown,
  answer: (r: SimReply) => void,
): void {
  const streamId = node.streamId;
  switch (pattern) {
    case AgentPatterns.TicketRequest: {
      const req = body as TicketRequest;
      const c = req.streamId === streamId ? node.carried() : null;
      const key = node.keyOf(req.requesterId);
      return node.tickets.ask(
        (inbound) => ({
          type: 'request',
          inbound,
          req,
          carried: c && {
            hops: c.hops,
            path: c.path,
            upstreamBitrateBps: c.upstreamBitrateBps,
            reparenting: c.reparenting,
          },
          requester: key === null ? { refused: 'not registered', listed: false } : { key },
          rates: node.rates(),
        }),
        answer,
      );
    }
    case AgentPatterns.TicketConfirm: {
      const msg = body as TicketConfirm;
      return node.tickets.ask(
        (inbound) => ({ type: 'confirm', inbound, msg, carries: node.carried() !== null }),
        answer,
      );
    }
    case AgentPatterns.TicketHeartbeat: {
      const msg = body as TicketHeartbeat;
      const path = node.carried()?.path;
      return node.tickets.ask((inbound) => ({ type: 'heartbeat', inbound, msg, path }), answer);
    }
    case AgentPatterns.MembershipJoin: {
      const join = body as MembershipJoin;
      return node.membership.ask((inbound) => ({ type: 'join-request', inbound, join }), answer);
    }
    case AgentPatterns.MembershipHeartbeat: {
      const heartbeat = body as MembershipHeartbeat;
      return node.membership.ask((inbound) => ({ type: 'heartbeat-request', inbound, heartbeat }), answer);
    }
    case AgentPatterns.SupernodeCarriers: {
      const c = (body as { streamId: string }).streamId === streamId ? node.carried() : null;
      const own = c && { hops: c.hops };
      return node.membership.ask(
        (inbound) => ({
          type: 'carriers',
          inbound,
          streamId: (body as { streamId: string }).streamId,
          own,
        }),
        answer,
      );
    }
    default:
      answer({ ok: false, code: 'bad-request', message: `the simulated agent does not handle ${pattern}` });
  }
}

export function routeEvent(node: SimNode, pattern: string, body: unknown): void {
  const b = body as never;
  switch (pattern) {
    case AgentPatterns.TicketCancel:
      node.tickets.feed({ type: 'cancel', msg: b });
      return;
    case AgentPatterns.TicketEnded:
      node.watch.feed({ type: 'ticket-ended', msg: b });
      return;
    case AgentPatterns.MembershipLeave:
      node.membership.feed({ type: 'member-leave', leave: b });
      return;
    case AgentPatterns.MembershipRehome:
      node.membership.feed({ type: 'rehome', rehome: b });
      return;
    case AgentPatterns.RelayUpstreamLost:
      node.watch.feed({ type: 'upstream-lost', msg: b });
      return;
    case AgentPatterns.RelayStreamEnded:
      node.watch.feed({ type: 'relay-stream-ended', streamId: (body as { streamId: string }).streamId });
      return;
    case AgentPatterns.RelayForwardClosed:
      node.tickets.feed({ type: 'forward-closed', ...(body as { ticketId: string; reason: string }) });
      return;
    default:
      return;
  }
}
