import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/**
 * Node keys (issue 13): `node_keys` binds a node id to the Ed25519 key of its first registration, for ever (it
 * outlives the node's row); `nodes.public_key` is the key a listed node registered with, null for rows written
 * before keys existed (such a node adopts the first key it registers with). Table API: SQLite and PostgreSQL alike.
 */
export class NodeKeys1730000000000 implements MigrationInterface {
  name = 'NodeKeys1730000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'node_keys',
        columns: [
          { name: 'node_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'public_key', type: 'varchar', length: '43' },
          { name: 'first_seen_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.addColumn(
      'nodes',
      new TableColumn({ name: 'public_key', type: 'varchar', length: '43', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('nodes', 'public_key');
    await queryRunner.dropTable('node_keys');
  }
}
