import { AsyncLocalStorage } from 'node:async_hooks';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { RedisOptions } from '@nestjs/microservices';
import type { Request } from 'express';
import { DirectoryPatterns } from '@astral/contracts';
import { WorkSharingRedisServer } from '@astral/transport';

const current = new AsyncLocalStorage<{ key?: string; queuedAt?: number }>();

/** Patterns every replica handles itself: a preview is kept in each replica's memory for its pages. */
const BROADCAST = new Set<string>([DirectoryPatterns.SetPreview]);

/**
 * The directory's Redis transport server. Replicas share the work (WorkSharingRedisServer): each request
 * and heartbeat is handled by one replica, or by a second when the first died holding it, so the
 * request's packet id (a UUID the client drew for this send) is kept for the handler as the request's
 * idempotency key (see claimRequest): a redelivered request is answered alike and applied once. Events
 * carry no id.
 */
export class DirectoryRedisServer extends WorkSharingRedisServer {
  constructor(options: RedisOptions['options'], claimIdleMs?: number) {
    super(options, { name: 'directory', broadcast: (channel) => BROADCAST.has(channel), claimIdleMs });
  }

  /** Runs after the screen: `packet` is parsed, and its id, if any, is 1-80 letters, digits or dashes. */
  protected override handleEntry(
    ...args: Parameters<WorkSharingRedisServer['handleEntry']>
  ): Promise<unknown> {
    const id = args[1].id;
    return current.run({ key: id && `redis:${id}`, queuedAt: args[4] }, () => super.handleEntry(...args));
  }
}

/**
 * The idempotency key of the request being handled: `redis:<packet id>` over Redis, `http:<key>` for
 * an HTTP request with an `Idempotency-Key` header, else undefined (the request is applied as new).
 */
export const RequestKey = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | undefined => {
    if (ctx.getType() === 'http') {
      const header = ctx.switchToHttp().getRequest<Request>().header('idempotency-key');
      return header ? `http:${header.slice(0, 80)}` : undefined;
    }
    return current.getStore()?.key;
  },
);

/**
 * When the message being handled was queued (epoch ms, Redis's clock), else undefined (HTTP, or a
 * broadcast). A heartbeat is stamped with it, so one redelivered late, after a newer one, is dropped.
 */
export const QueuedAt = createParamDecorator((_data: unknown, ctx: ExecutionContext): number | undefined =>
  ctx.getType() === 'http' ? undefined : current.getStore()?.queuedAt,
);
