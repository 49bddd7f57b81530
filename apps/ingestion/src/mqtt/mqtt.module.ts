import { Module } from '@nestjs/common';
import { MqttConsumer } from './mqtt-consumer.service.js';

/** The MQTT session that feeds the pipeline. */
@Module({
  providers: [MqttConsumer],
  exports: [MqttConsumer],
})
export class MqttModule {}
