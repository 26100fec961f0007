import { Injectable } from '@nestjs/common';

/** Whether this node has begun its graceful leave: from then on it asks for no new tickets. */
@Injectable()
export class NodeLeaving {
  private started = false;

  get leaving(): boolean {
    return this.started;
  }

  begin(): void {
    this.started = true;
  }
}
