import { AsyncLocalStorage } from 'node:async_hooks';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { RedisOptions, ServerRedis } from '@nestjs/microservices';
import type { Request } from 'express';

const current = new AsyncLocalStorage<string | undefined>();

/**
 * The directory's Redis transport server. Redis pub/sub hands every request to every replica; the
 * request's packet id (a UUID the client drew for this send) is the same in all of them, so it is kept
 * for the handler as the request's idempotency key (see claimRequest). Events carry no id.
 */
export class DirectoryRedisServer extends ServerRedis {
  constructor(options: RedisOptions['options']) {
    super(options ?? {});
  }

  override handleMessage(...args: Parameters<ServerRedis['handleMessage']>): Promise<unknown> {
    const raw: unknown = this.parseMessage(args[1]);
    const id =
      raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string'
        ? (raw as { id: string }).id.slice(0, 80)
        : undefined;
    return current.run(id && `redis:${id}`, () => super.handleMessage(...args));
  }
}

/**
 * The idempotency key of the request being handled: `redis:<packet id>` over Redis, `http:<key>` for
 * an HTTP request with an `Idempotency-Key` header, else undefined (the request is applied as new).
 */
export const RequestKey = createParamDecorator((_data: unknown, ctx: ExecutionContext): string | undefined => {
  if (ctx.getType() === 'http') {
    const header = ctx.switchToHttp().getRequest<Request>().header('idempotency-key');
    return header ? `http:${header.slice(0, 80)}` : undefined;
  }
  return current.getStore();
});
