import { AsyncLocalStorage } from 'node:async_hooks';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { RedisOptions } from '@nestjs/microservices';
import type { Request } from 'express';
import { ScreenedRedisServer } from '@astral/transport';

const current = new AsyncLocalStorage<string | undefined>();

/**
 * The directory's Redis transport server. Redis pub/sub hands every request to every replica; the
 * request's packet id (a UUID the client drew for this send) is the same in all of them, so it is kept
 * for the handler as the request's idempotency key (see claimRequest). Events carry no id.
 */
export class DirectoryRedisServer extends ScreenedRedisServer {
  constructor(options: RedisOptions['options']) {
    super(options);
  }

  /** Runs after the screen: `packet` is parsed, and its id, if any, is 1-80 letters, digits or dashes. */
  protected override handleScreened(
    ...args: Parameters<ScreenedRedisServer['handleScreened']>
  ): Promise<unknown> {
    const id = args[1].id;
    return current.run(id && `redis:${id}`, () => super.handleScreened(...args));
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
    return current.getStore();
  },
);
