import { Module } from '@nestjs/common';
import { DeadLettersModule } from '../dead-letters/dead-letters.module.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { MqttModule } from '../mqtt/mqtt.module.js';
import { PresenceModule } from '../presence/presence.module.js';
import { StorageModule } from '../storage/storage.module.js';
import { SparkplugIngest } from './sparkplug-ingest.service.js';

/** The Sparkplug B host application: `spBv1.0/…` messages into the pipeline's outputs. */
@Module({
  imports: [MqttModule, StorageModule, LedgerModule, PresenceModule, DeadLettersModule],
  providers: [SparkplugIngest],
  exports: [SparkplugIngest],
})
export class SparkplugModule {}
