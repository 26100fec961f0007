import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DirectoryConfig } from './directory.config';
import { directoryDataSourceOptions } from './database/data-source';
import { AuthModule } from './auth/auth.module';
import { DirectoryIdentityModule } from './auth/directory-key';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { NetworkModule } from './network/network.module';
import { NodesModule } from './nodes/nodes.module';
import { PagesModule } from './pages/pages.module';
import { StreamsModule } from './streams/streams.module';
import { PlacementModule } from './placement/placement.module';
import { PreviewsModule } from './previews/previews.module';

/** Makes the loaded DirectoryConfig injectable everywhere. */
@Global()
@Module({})
class DirectoryConfigModule {
  static with(config: DirectoryConfig): DynamicModule {
    return {
      module: DirectoryConfigModule,
      providers: [{ provide: DirectoryConfig, useValue: config }],
      exports: [DirectoryConfig],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: DirectoryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        DirectoryConfigModule.with(config),
        TypeOrmModule.forRoot({ ...directoryDataSourceOptions(config), retryAttempts: 3, retryDelay: 1000 }),
        DatabaseModule,
        DirectoryIdentityModule,
        MetricsModule,
        HealthModule,
        NetworkModule,
        AuthModule,
        NodesModule,
        StreamsModule,
        PlacementModule,
        PagesModule,
        PreviewsModule,
      ],
    };
  }
}
