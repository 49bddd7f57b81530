#!/usr/bin/env node
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit, maskSecrets } from '@parkpulse/config';
import { AppModule } from './app.module.js';
import { loadOperationsConfig } from './config/operations-config.js';
import { redact } from './store/create-store.js';

const config = loadConfigOrExit(() => loadOperationsConfig());

const app = await NestFactory.create(AppModule.forRoot(config), {
  logger: ['log', 'warn', 'error'],
});
app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
await app.listen(config.http.port, config.http.host);
new Logger('Operations').log(
  `http :${config.http.port} (/api/v1, /health, /metrics); ${JSON.stringify(
    maskSecrets({
      database:
        config.database.driver === 'sqlite'
          ? `sqlite:${config.database.file}`
          : redact(config.database.url),
      mqtt: config.mqtt.url,
      account: config.mqtt.username,
      MQTT_PASSWORD: config.mqtt.password,
      influx: config.influx?.url ?? 'off',
    }),
  )}`,
);
