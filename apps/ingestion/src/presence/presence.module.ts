import { Module } from '@nestjs/common';
import { StorageModule } from '../storage/storage.module.js';
import { PresenceService } from './presence.service.js';

/** Presence per device (online / stale / offline / flapping) and per park. */
@Module({
  imports: [StorageModule],
  providers: [PresenceService],
  exports: [PresenceService],
})
export class PresenceModule {}
