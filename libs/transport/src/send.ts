import { Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { TimeoutError, firstValueFrom, timeout } from 'rxjs';
import {
  Addressed,
  AddressedPattern,
  AstralError,
  EventPattern,
  PayloadOf,
  ReplyOf,
  RequestPattern,
  patternOf,
  replyShapeOf,
} from '@astral/contracts';
import { LogThrottle } from '@astral/net';
import { checkReply } from './reply-check';

export const DEFAULT_REQUEST_TIMEOUT_MS = 3000;

type DirectoryRequest = Exclude<RequestPattern, AddressedPattern>;
type AddressedRequest = Extract<RequestPattern, AddressedPattern>;
type DirectoryEvent = Exclude<EventPattern, AddressedPattern>;
type AddressedEvent = Extract<EventPattern, AddressedPattern>;

const log = new Logger('Bus');
const refusals = new LogThrottle();

/**
 * Sends a request with a timeout and translates transport errors into AstralError, so a dead peer
 * is a 'timeout', never a hang. Payload and reply are those of the pattern in BusMap; a node- or
 * relay-addressed pattern is sent on its `addressed()` channel. A reply listed in CHECKED_REPLIES is
 * validated before it is returned: a reply that fails is logged and thrown as an AstralError
 * 'unavailable' naming the fields, as if the peer had not answered.
 */
export function request<P extends DirectoryRequest>(
  client: ClientProxy,
  pattern: P,
  data: PayloadOf<P>,
  timeoutMs?: number,
): Promise<ReplyOf<P>>;
export function request<P extends AddressedRequest>(
  client: ClientProxy,
  channel: Addressed<P>,
  data: PayloadOf<P>,
  timeoutMs?: number,
): Promise<ReplyOf<P>>;
export async function request(
  client: ClientProxy,
  channel: string,
  data: object,
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<unknown> {
  let reply: unknown;
  try {
    reply = await firstValueFrom(client.send<unknown>(channel, data).pipe(timeout(timeoutMs)));
  } catch (err) {
    if (err instanceof TimeoutError) {
      throw new AstralError(
        'timeout',
        `no answer to ${channel} within ${timeoutMs} ms; the peer may be down`,
      );
    }
    if (err instanceof AstralError) throw err;
    throw AstralError.fromBody(err);
  }
  const pattern = patternOf(channel) as RequestPattern;
  const shape = replyShapeOf(pattern);
  if (!shape) return reply;
  const checked = checkReply(shape, reply);
  if (checked.ok) return checked.value;
  const suppressed = refusals.take(`${channel}|${Object.keys(checked.fields).join(',')}`);
  if (suppressed !== null) {
    log.warn({
      msg: 'bus reply refused',
      channel: channel.slice(0, 200),
      reason: checked.reason,
      fields: checked.fields,
      ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
    });
  }
  throw new AstralError(
    'unavailable',
    `${checked.reason} to ${channel}; the peer may run an incompatible version, so it is treated as not answering`,
    checked.fields,
  );
}

/** Fire-and-forget event; a Redis outage is logged by the caller, never thrown into a hot path. */
export function emit<P extends DirectoryEvent>(
  client: ClientProxy,
  pattern: P,
  data: PayloadOf<P>,
  timeoutMs?: number,
): Promise<void>;
export function emit<P extends AddressedEvent>(
  client: ClientProxy,
  channel: Addressed<P>,
  data: PayloadOf<P>,
  timeoutMs?: number,
): Promise<void>;
export async function emit(
  client: ClientProxy,
  channel: string,
  data: object,
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<void> {
  try {
    await firstValueFrom(client.emit(channel, data).pipe(timeout(timeoutMs)), { defaultValue: undefined });
  } catch (err) {
    if (err instanceof TimeoutError)
      throw new AstralError('timeout', `event ${channel} not published within ${timeoutMs} ms`);
    throw AstralError.fromBody(err);
  }
}
