import { Module } from '@nestjs/common';
import { MqttModule } from '../mqtt/mqtt.module.js';
import { DeadLetterPublisher } from './dead-letter.publisher.js';

/** Dead letters on MQTT, `$parkpulse/dead-letters/{original topic}`, over the ingestion's session. */
@Module({
  imports: [MqttModule],
  providers: [DeadLetterPublisher],
  exports: [DeadLetterPublisher],
})
export class DeadLettersModule {}
