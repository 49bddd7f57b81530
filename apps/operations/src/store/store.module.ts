import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { OPERATIONS_CONFIG, type OperationsConfig } from '../config/operations-config.js';
import type { CommandStore } from './command-store.js';
import { createStore } from './create-store.js';

export const COMMAND_STORE = Symbol('COMMAND_STORE');

/** Closes the database last, after everything that uses it has stopped. */
@Injectable()
class StoreCloser implements OnApplicationShutdown {
  constructor(@Inject(COMMAND_STORE) private readonly store: CommandStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/** The command store the configuration names (SQLite or PostgreSQL), migrated before anything uses it. */
@Global()
@Module({
  providers: [
    {
      provide: COMMAND_STORE,
      inject: [OPERATIONS_CONFIG],
      useFactory: (config: OperationsConfig) => createStore(config.database),
    },
    StoreCloser,
  ],
  exports: [COMMAND_STORE],
})
export class StoreModule {}
