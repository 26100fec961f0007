import { AstralErrorBody } from '@astral/contracts';

/**
 * A reply as Nest's Redis transport writes it on `<channel>.reply`: the request's packet id, then either
 * the handler's result (`response`) or an error body (`err`), and `isDisposed` on the last packet.
 * Only code that reads the wire itself (tests publishing raw messages) needs it; `request` unwraps it.
 */
export interface WireReply<R = unknown> {
  id?: string;
  response?: R;
  err?: AstralErrorBody;
  isDisposed?: boolean;
}
