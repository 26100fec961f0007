import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';

/** Supernodes: the cap on members (set on promotion) and how many they have (from their heartbeats). */
export class SupernodeCapacity1710000000000 implements MigrationInterface {
  name = 'SupernodeCapacity1710000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('nodes', [
      new TableColumn({ name: 'max_children', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'child_count', type: 'integer', default: 0 }),
    ]);
    await queryRunner.createIndex(
      'nodes',
      new TableIndex({ name: 'idx_nodes_supernode', columnNames: ['supernode'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('nodes', 'idx_nodes_supernode');
    await queryRunner.dropColumn('nodes', 'child_count');
    await queryRunner.dropColumn('nodes', 'max_children');
  }
}
