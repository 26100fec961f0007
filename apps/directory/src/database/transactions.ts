import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/**
 * Runs units of work in database transactions. On SQLite, one process has one connection, so two
 * overlapping TypeORM transactions would interleave on it: they are queued here instead. Between
 * processes, SQLite's own file lock (with the busy timeout) serialises writers. PostgreSQL runs them
 * concurrently on the pool.
 */
@Injectable()
export class DirectoryTransactions {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dataSource: DataSource) {}

  run<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    if (this.dataSource.options.type === 'postgres') return this.dataSource.transaction(work);
    const next = this.queue.then(() => this.dataSource.transaction(work));
    this.queue = next.catch(() => undefined);
    return next;
  }
}
