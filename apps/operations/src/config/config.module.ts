import { type DynamicModule, Global, Module } from '@nestjs/common';
import { OPERATIONS_CONFIG, type OperationsConfig } from './operations-config.js';

/** Provides the configuration that main.ts parsed (and validated) once at start-up. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: OperationsConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: OPERATIONS_CONFIG, useValue: config }],
      exports: [OPERATIONS_CONFIG],
    };
  }
}
