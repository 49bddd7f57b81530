#!/usr/bin/env node
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfigOrExit, maskSecrets } from '@parkpulse/config';
import { AppModule } from './app.module.js';
import { loadOperationsConfig } from './config/operations-config.js';
import { redact } from './store/create-store.js';

const config = loadConfigOrExit(() => loadOperationsConfig());

const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
  logger: ['log', 'warn', 'error'],
});
// The operator console: static files built by apps/console (no CDN), on the API's origin.
if (existsSync(config.consoleDir)) {
  app.useStaticAssets(config.consoleDir, { prefix: '/console/', index: 'index.html' });
  app
    .getHttpAdapter()
    .get('/', (_req: unknown, res: { redirect(url: string): void }) => res.redirect('/console/'));
} else new Logger('Operations').warn(`no console at ${config.consoleDir}: build apps/console`);
app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
await app.listen(config.http.port, config.http.host);
new Logger('Operations').log(
  `http :${config.http.port} (/api/v1, /console/, /health, /metrics); ${JSON.stringify(
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
