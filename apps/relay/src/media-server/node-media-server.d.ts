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
    on(event: 'prePublish' | 'postPublish' | 'donePublish' | 'prePlay' | 'postPlay' | 'donePlay', listener: (session: NmsSession) => void): void;
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
    postPlay(session: { id: string; ip: string; protocol: string; streamPath: string; sendBuffer(buffer: Buffer): void }): string | null;
    donePlay(session: { id: string }): void;
  }
  const context: {
    broadcasts: Map<string, NmsBroadcast>;
  };
  export default context;
}
