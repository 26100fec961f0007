import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/**
 * What carriers report (issue 14): each heartbeat's upload, commitment, players, supernode and forwards on
 * `nodes`, and per stream carried its players, forwards, bit rate, upstream and video size on `stream_carriers`.
 * `streams.starved_at` is when a placement last found no carrier with room but the source. `directory_keys`
 * holds the key pair every replica signs play tokens with. Table API: SQLite and PostgreSQL alike.
 */
export class CarrierReports1740000000000 implements MigrationInterface {
  name = 'CarrierReports1740000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('nodes', [
      new TableColumn({ name: 'upload_bps', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'committed_bps', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'players', type: 'integer', default: 0 }),
      new TableColumn({ name: 'forwards', type: 'integer', default: 0 }),
      new TableColumn({ name: 'supernode_id', type: 'varchar', length: '36', isNullable: true }),
      new TableColumn({ name: 'last_report_at', type: 'bigint', isNullable: true }),
    ]);
    await queryRunner.addColumns('stream_carriers', [
      new TableColumn({ name: 'upstream_node_id', type: 'varchar', length: '36', isNullable: true }),
      new TableColumn({ name: 'players', type: 'integer', default: 0 }),
      new TableColumn({ name: 'local_players', type: 'integer', default: 0 }),
      new TableColumn({ name: 'forwards', type: 'integer', default: 0 }),
      new TableColumn({ name: 'bitrate_bps', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'width', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'height', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'reported_at', type: 'bigint', isNullable: true }),
    ]);
    await queryRunner.addColumn(
      'streams',
      new TableColumn({ name: 'starved_at', type: 'bigint', isNullable: true }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'directory_keys',
        columns: [
          { name: 'name', type: 'varchar', length: '32', isPrimary: true },
          { name: 'public_key', type: 'varchar', length: '43' },
          { name: 'private_key', type: 'varchar', length: '200' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('directory_keys');
    await queryRunner.dropColumn('streams', 'starved_at');
    for (const c of [
      'reported_at',
      'height',
      'width',
      'bitrate_bps',
      'forwards',
      'local_players',
      'players',
      'upstream_node_id',
    ])
      await queryRunner.dropColumn('stream_carriers', c);
    for (const c of ['last_report_at', 'supernode_id', 'forwards', 'players', 'committed_bps', 'upload_bps'])
      await queryRunner.dropColumn('nodes', c);
  }
}
