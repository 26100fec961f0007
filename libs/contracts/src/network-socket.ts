import { IsIn } from 'class-validator';
import type { IsoDateTime } from './common';
import type { NetworkSnapshot } from './network';

/**
 * The directory's live network view (GET /network) over a WebSocket at /ws/network: the directory pushes the
 * whole NetworkSnapshot on connect and again whenever it changes, at most once a second. Read-only: the only
 * thing a client may send is a `resync` (the full snapshot again); anything else closes that client.
 */
export const NETWORK_SOCKET_PATH = '/ws/network';

/** The most bytes one client message may have; a larger frame closes the client (1009). */
export const NETWORK_SOCKET_MAX_CLIENT_MESSAGE_BYTES = 1024;

/** Close codes the directory uses on the network socket, with a reason text in the close frame. */
export const NetworkSocketClose = {
  /** The client sent something that is not a NetworkClientMessage, or too many messages. */
  policy: 1008,
  /** A frame above NETWORK_SOCKET_MAX_CLIENT_MESSAGE_BYTES. */
  tooLarge: 1009,
  /** The directory is shutting down: reconnect to another replica, or later. */
  goingAway: 1001,
} as const;

/** What a client may send: ask for the full snapshot again (answered at most once a second). */
export class NetworkClientMessage {
  @IsIn(['resync'], { message: 'type must be "resync", the only message a network view client may send' })
  type!: 'resync';
}

/** The full picture; `hash` names its content (equal snapshots, equal hash). */
export interface NetworkSnapshotMessage<S = NetworkSnapshot> {
  type: 'snapshot';
  hash: string;
  /** When the directory built it. */
  at: IsoDateTime;
  snapshot: S;
}

/** The directory could not build a snapshot (its database is unreachable, or the picture is too large). */
export interface NetworkUnavailableMessage {
  type: 'unavailable';
  reason: string;
}

export type NetworkSocketMessage<S = NetworkSnapshot> = NetworkSnapshotMessage<S> | NetworkUnavailableMessage;
