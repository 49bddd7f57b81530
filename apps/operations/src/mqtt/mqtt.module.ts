import { Module } from '@nestjs/common';
import { MqttLinkService } from './mqtt-link.service.js';

@Module({ providers: [MqttLinkService], exports: [MqttLinkService] })
export class MqttModule {}
