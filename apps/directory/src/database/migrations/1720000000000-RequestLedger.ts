import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

/**
 * Exactly-once effects with several replicas: every replica receives every Redis request, and the one
 * whose insert into `processed_requests` wins applies the counted effects; the others read its result.
 * `nodes.registrations` counts accepted registrations per node (exact, whatever the replica count).
 */
export class RequestLedger1720000000000 implements MigrationInterface {
  name = 'RequestLedger1720000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'processed_requests',
        columns: [
          { name: 'request_key', type: 'varchar', length: '100', isPrimary: true },
          { name: 'pattern', type: 'varchar', length: '64' },
          { name: 'result', type: 'varchar', length: '200', isNullable: true },
          { name: 'processed_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'processed_requests',
      new TableIndex({ name: 'idx_processed_requests_at', columnNames: ['processed_at'] }),
    );
    await queryRunner.addColumn(
      'nodes',
      new TableColumn({ name: 'registrations', type: 'integer', default: 0 }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('nodes', 'registrations');
    await queryRunner.dropTable('processed_requests');
  }
}
