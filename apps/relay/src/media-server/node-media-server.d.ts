// Minimal typings for the parts of node-media-server 4.4.x that the relay uses.
declare module 'node-media-server' {
  import { Socket } from 'node:net';
  import { IncomingMessage } from 'node:http';

  export interface NmsSession {
    id: string;
    ip: string;
    /** 'rtmp' or 'flv' */
    protocol: string;
    isPublisher: boolean;
    streamApp: string;
    streamName: string;
    streamPath: string;
    streamQuery: Record<string, string | string[] | undefined>;
    socket?: Socket;
    req?: IncomingMessage;
    close(): void;
  }

  export default class NodeMediaServer {
    constructor(config: Record<string, unknown>, configPath?: string);
    on(
      event: 'prePublish' | 'postPublish' | 'donePublish' | 'prePlay' | 'postPlay' | 'donePlay',
      listener: (session: NmsSession) => void,
    ): void;
    run(): Promise<void>;
    stop(): Promise<void>;
  }
}

declare module 'node-media-server/src/core/logger.js' {
  const logger: { level: string; log(message: string, level?: string): void };
  export default logger;
}

declare module 'node-media-server/src/core/context.js' {
  /** One stream's fan-out inside node-media-server (src/server/broadcast_server.js). */
  export interface NmsBroadcast {
    subscribers: Map<string, unknown>;
    publisher: unknown;
    /**
     * Adds a player: an FLV one gets the FLV header, metadata, sequence headers and the GOP cache through
     * `sendBuffer`, then every tag. Returns a refusal message, or null.
     */
    postPlay(session: {
      id: string;
      ip: string;
      protocol: string;
      streamPath: string;
      sendBuffer(buffer: Buffer): void;
    }): string | null;
    donePlay(session: { id: string }): void;
  }
  const context: {
    broadcasts: Map<string, NmsBroadcast>;
  };
  export default context;
}

declare module 'node-media-server/src/session/rtmp_session.js' {
  import { Socket } from 'node:net';
  /** The protocol state machine of one RTMP connection (src/protocol/rtmp.js). */
  export interface NmsRtmp {
    streamApp: string;
    parserPacket: { header: { stream_id: number; type: number; length: number }; payload: Buffer };
    inPackets: Map<number, unknown>;
    packetAlloc(): void;
    controlHandler(): void;
    onConnect(invoke: { cmdObj?: unknown; transId?: number }): void;
    onPublish(invoke: { streamName?: unknown }): void;
    onPlay(invoke: { streamName?: unknown }): void;
    sendStatusMessage(streamId: number, level: string, code: string, description: string): void;
  }
  export default class RtmpSession {
    constructor(socket: Socket);
  }
}

declare module 'node-media-server/src/server/broadcast_server.js' {
  export default class BroadcastServer {
    constructor(streamPath: string);
  }
}

declare module 'node-media-server/src/protocol/flv.js' {
  export default class Flv {
    static parserTag(type: number, time: number, size: number, data: Buffer): unknown;
    static createMessage(packet: unknown): Buffer;
  }
}

declare module 'node-media-server/src/protocol/rtmp.js' {
  export default class Rtmp {
    static createMessage(packet: unknown): Buffer;
  }
}
