import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * The first schema: nodes, streams and who carries which stream. Written with TypeORM's Table API so
 * the same migration runs on SQLite and PostgreSQL. Timestamps are epoch milliseconds in bigint columns.
 */
export class Initial1700000000000 implements MigrationInterface {
  name = 'Initial1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'nodes',
        columns: [
          { name: 'node_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'host', type: 'varchar', length: '253' },
          { name: 'rtmp_port', type: 'integer' },
          { name: 'http_port', type: 'integer' },
          { name: 'forward_port', type: 'integer' },
          { name: 'api_port', type: 'integer' },
          { name: 'supernode', type: 'boolean' },
          { name: 'upload_limit_bps', type: 'bigint', isNullable: true },
          { name: 'version', type: 'varchar', length: '32' },
          { name: 'registered_at', type: 'bigint' },
          { name: 'last_seen_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'nodes',
      new TableIndex({ name: 'idx_nodes_last_seen_at', columnNames: ['last_seen_at'] }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'streams',
        columns: [
          { name: 'stream_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'title', type: 'varchar', length: '200' },
          { name: 'description', type: 'varchar', length: '2000' },
          { name: 'source_node_id', type: 'varchar', length: '36' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'bitrate_bps', type: 'bigint', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'started_at', type: 'bigint', isNullable: true },
          { name: 'ended_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    await queryRunner.createIndex(
      'streams',
      new TableIndex({ name: 'idx_streams_source', columnNames: ['source_node_id'] }),
    );
    await queryRunner.createIndex(
      'streams',
      new TableIndex({ name: 'idx_streams_created_at', columnNames: ['created_at'] }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'stream_carriers',
        columns: [
          { name: 'stream_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'node_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'hops', type: 'integer' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'stream_carriers',
      new TableIndex({ name: 'idx_carriers_node', columnNames: ['node_id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('stream_carriers');
    await queryRunner.dropTable('streams');
    await queryRunner.dropTable('nodes');
  }
}
