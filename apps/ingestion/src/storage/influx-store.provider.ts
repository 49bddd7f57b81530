import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { InfluxStore } from '@parkpulse/influx';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';

/** The InfluxDB store as a Nest provider: creates the database at start-up (v1) when asked to. */
@Injectable()
export class InfluxStoreProvider
  extends InfluxStore
  implements OnModuleInit, OnApplicationShutdown
{
  private readonly logger = new Logger('InfluxDB');

  constructor(@Inject(INGESTION_CONFIG) private readonly ingestion: IngestionConfig) {
    super(ingestion.influx);
  }

  async onModuleInit(): Promise<void> {
    if (!this.ingestion.influx.createDatabase) return;
    // InfluxDB may still be starting: the ingestion must come up anyway (messages simply wait in
    // the broker), so a failure here is logged and retried by the first write, not fatal.
    try {
      await this.ensureDatabase();
    } catch (error) {
      this.logger.warn(
        `could not create database "${this.config.database}" yet: ${(error as Error).message}`,
      );
    }
  }

  onApplicationShutdown(): void {
    this.close();
  }
}
