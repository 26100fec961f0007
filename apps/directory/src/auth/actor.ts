import { ExecutionContext, createParamDecorator } from '@nestjs/common';

/**
 * Who a request acts as, once its credentials are checked: the operator (who may do everything) or one node
 * (which may change its own records only). Over the bus, the sender the transport vouches for is a node.
 */
export type Actor = { kind: 'operator' } | { kind: 'node'; nodeId: string };

export const OPERATOR: Actor = { kind: 'operator' };

export const nodeActor = (nodeId: string): Actor => ({ kind: 'node', nodeId });

/** Whether `actor` may change the records of node `nodeId`. Pure. */
export function mayActFor(actor: Actor, nodeId: string): boolean {
  return actor.kind === 'operator' || actor.nodeId === nodeId;
}

/** How an actor is named in log lines and refusals. */
export function describeActor(actor: Actor): string {
  return actor.kind === 'operator' ? 'the operator' : `node ${actor.nodeId}`;
}

/** The request property the credentials guard sets. */
export const ACTOR_PROPERTY = 'astralActor';

/** The actor of an HTTP request, as the credentials guard established it. */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<Record<string, unknown>>()[ACTOR_PROPERTY] as Actor | undefined;
  if (!actor) throw new Error('no actor on the request: is the route missing from the credentials guard?');
  return actor;
});
