import { type DynamicModule, Global, Module } from '@nestjs/common';
import { INGESTION_CONFIG, type IngestionConfig } from './ingestion-config.js';

/** Provides the configuration that main.ts parsed (and validated) once at start-up. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: IngestionConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: INGESTION_CONFIG, useValue: config }],
      exports: [INGESTION_CONFIG],
    };
  }
}
