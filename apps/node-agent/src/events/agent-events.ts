import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';

export type AgentEvent =
  | { type: 'node-joined'; nodeId: string; role: 'member' | 'supernode' }
  | { type: 'node-left'; nodeId: string; reason: string }
  | { type: 'supernode-changed'; supernodeId: string | null; role: 'member' | 'supernode' }
  | { type: 'ticket-created'; ticketId: string; streamId: string; direction: 'outgoing' | 'incoming'; peerId: string }
  | { type: 'ticket-ended'; ticketId: string; streamId: string; direction: 'outgoing' | 'incoming'; reason: string }
  | { type: 'upstream-switched'; streamId: string; from: string | null; to: string; recoveryMs: number }
  | { type: 'stream-live'; streamId: string; origin: 'publish' | 'upstream' }
  | { type: 'stream-ended'; streamId: string };

/** The node's event stream, for the local WebSocket and for tests. */
@Injectable()
export class AgentEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(1000);
  }

  publish(event: AgentEvent): void {
    this.emitter.emit('event', { ...event, at: new Date().toISOString() });
  }

  subscribe(listener: (event: AgentEvent & { at: string }) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
