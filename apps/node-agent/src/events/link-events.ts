import { Injectable } from '@nestjs/common';
import { SetDirectoryLink } from '@astral/contracts';

/** The agent's own moments that other services start work on. */
export interface LinkEventMap {
  /** The directory accepted the node (membership starts). */
  'directory-registered': [];
  /** The directory's play-token key and public URL, from every registration reply. */
  'directory-info': [SetDirectoryLink];
  /** The relay (re)started with no state: replay key authorisations, admissions, upstreams. */
  'relay-ready': [];
}

type Handler<K extends keyof LinkEventMap> = (...args: LinkEventMap[K]) => void | Promise<void>;

/** Typed events between the agent's services, in place of callbacks one service sets on another. */
@Injectable()
export class LinkEvents {
  private readonly handlers: { [K in keyof LinkEventMap]?: Handler<K>[] } = {};

  on<K extends keyof LinkEventMap>(event: K, handler: Handler<K>): void {
    const list = (this.handlers[event] ??= []) as Handler<K>[];
    list.push(handler);
  }

  /** Runs the handlers one after another, in the order they subscribed; a failing one does not stop the rest. */
  async emit<K extends keyof LinkEventMap>(
    event: K,
    onError: (err: Error) => void,
    ...args: LinkEventMap[K]
  ): Promise<void> {
    for (const h of this.handlers[event] ?? []) {
      try {
        await h(...args);
      } catch (err) {
        onError(err as Error);
      }
    }
  }
}
