import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { AgentEvent, AgentEventBody } from '@astral/contracts';

/** The node's event stream, for the local WebSocket and for tests. */
@Injectable()
export class AgentEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(1000);
  }

  publish(event: AgentEventBody): void {
    const sent: AgentEvent = { ...event, at: new Date().toISOString() };
    this.emitter.emit('event', sent);
  }

  subscribe(listener: (event: AgentEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
