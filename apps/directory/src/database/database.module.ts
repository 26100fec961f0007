import { Global, Module } from '@nestjs/common';
import { DirectoryTransactions } from './transactions';

@Global()
@Module({ providers: [DirectoryTransactions], exports: [DirectoryTransactions] })
export class DatabaseModule {}
