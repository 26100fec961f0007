import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { DirectoryConfig } from '../directory.config';
import { NodesModule } from '../nodes/nodes.module';
import { CredentialsGuard } from './credentials.guard';
import { OperatorToken } from './operator-token';
import { RateLimitGuard, rateLimitOptions } from './rate-limits';

/**
 * Who may call what over HTTP (docs/security/directory.md): per-address rate limits first, then credentials for
 * every mutating route. Both are global guards that pass bus messages through untouched.
 */
@Module({
  imports: [
    NodesModule,
    ThrottlerModule.forRootAsync({
      useFactory: (config: DirectoryConfig) => rateLimitOptions(config),
      inject: [DirectoryConfig],
    }),
  ],
  providers: [
    {
      provide: OperatorToken,
      useFactory: (config: DirectoryConfig) => new OperatorToken(config.operatorToken),
      inject: [DirectoryConfig],
    },
    // In this order: a flood is refused before its credentials cost a database read or a signature check.
    { provide: APP_GUARD, useClass: RateLimitGuard },
    { provide: APP_GUARD, useClass: CredentialsGuard },
  ],
})
export class AuthModule {}
