#!/usr/bin/env node
import { loadConfigOrExit, maskSecrets } from '@parkpulse/config';
import { startBroker } from './broker.js';
import { loadConfig } from './config.js';

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} broker ${line}\n`);

const config = loadConfigOrExit(() => loadConfig());

const broker = await startBroker(config, log);
log(
  `listening: mqtt ${config.host}:${broker.ports.mqtt}, ws :${broker.ports.ws}/mqtt, http :${broker.ports.http} (/health, /metrics) ${JSON.stringify(maskSecrets({ ...config }))}`,
);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: closing`);
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    broker.close().then(
      () => {
        clearTimeout(force);
        process.exit(0);
      },
      () => process.exit(1),
    );
  });
}
