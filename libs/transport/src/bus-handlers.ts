import { EventPattern as NestEventPattern, MessagePattern } from '@nestjs/microservices';
import { BusPattern, EventPattern, PayloadOf, ReplyOf, RequestPattern } from '@astral/contracts';

/** A handler of pattern P: takes its payload (then, optionally, context such as a request key) and returns its reply. */
type Handler<P extends BusPattern> = (
  payload: PayloadOf<P>,
  ...context: never[]
) => ReplyOf<P> | Promise<ReplyOf<P>>;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * The payload parameter must be declared with exactly the contract's class, not a wider one: the
 * validation pipe validates against the declared class, so a wider one would let fields through unchecked.
 * A handler that takes no parameter (the relay's stats) passes.
 */
type ExactPayload<M extends (...args: never[]) => unknown, P extends BusPattern> =
  Parameters<M> extends []
    ? unknown
    : Same<Parameters<M>[0], PayloadOf<P>> extends true
      ? unknown
      : {
          'the payload parameter must be declared with exactly the type BusMap gives the pattern': PayloadOf<P>;
        };

type HandlerDecorator<P extends BusPattern> = <M extends Handler<P>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M> & ExactPayload<M, P>,
) => void;

/**
 * `@MessagePattern(pattern)` checked against BusMap: the method must take the pattern's payload and
 * return its reply (or a promise of it). A mismatch is a compile error (`npx tsc -p tsconfig.json`).
 */
export function OnRequest<P extends RequestPattern>(pattern: P): HandlerDecorator<P> {
  return (target, key, descriptor) => {
    MessagePattern(pattern)(target, key, descriptor);
  };
}

/** `@EventPattern(pattern)` checked against BusMap: the method takes the pattern's payload and returns nothing. */
export function OnEvent<P extends EventPattern>(pattern: P): HandlerDecorator<P> {
  return (target, key, descriptor) => {
    NestEventPattern(pattern)(target, key, descriptor);
  };
}
