import { Module } from '@nestjs/common';
import { StorageModule } from '../storage/storage.module.js';
import { DeliveryLedgerService } from './delivery-ledger.service.js';

/** The delivery ledger: per-device completeness from `seq`, written as `device_ledger`. */
@Module({
  imports: [StorageModule],
  providers: [DeliveryLedgerService],
  exports: [DeliveryLedgerService],
})
export class LedgerModule {}
