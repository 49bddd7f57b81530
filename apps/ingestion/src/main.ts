#!/usr/bin/env node
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit, maskSecrets } from '@parkpulse/config';
import { AppModule } from './app.module.js';
import { loadIngestionConfig } from './config/ingestion-config.js';

const config = loadConfigOrExit(() => loadIngestionConfig());

const app = await NestFactory.create(AppModule.forRoot(config), {
  logger: ['log', 'warn', 'error'],
});
// SIGTERM/SIGINT run the shutdown hooks: stop consuming, flush, acknowledge, disconnect.
app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
await app.listen(config.httpPort, config.httpHost);
new Logger('Ingestion').log(
  `http ${config.httpHost}:${config.httpPort} (/health, /metrics); ${JSON.stringify(maskSecrets({ link: config.link.url, clientId: config.link.clientId, influx: config.influx.url, api: config.influx.api, database: config.influx.database, INFLUX_PASSWORD: config.influx.password, INFLUX_TOKEN: config.influx.token }))}`,
);
