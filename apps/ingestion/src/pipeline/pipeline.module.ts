import { Module } from '@nestjs/common';
import { DeadLettersModule } from '../dead-letters/dead-letters.module.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { MqttModule } from '../mqtt/mqtt.module.js';
import { PresenceModule } from '../presence/presence.module.js';
import { SparkplugModule } from '../sparkplug/sparkplug.module.js';
import { StorageModule } from '../storage/storage.module.js';
import { IngestPipeline } from './ingest-pipeline.service.js';
import { IngestionRunner } from './ingestion-runner.service.js';
import { PlatformStats } from './platform-stats.service.js';

/** decode ▶ validate ▶ map ▶ batch write, fed by the MQTT session (Sparkplug B beside JSON). */
@Module({
  imports: [
    MqttModule,
    StorageModule,
    LedgerModule,
    PresenceModule,
    DeadLettersModule,
    SparkplugModule,
  ],
  providers: [IngestPipeline, PlatformStats, IngestionRunner],
})
export class PipelineModule {}
