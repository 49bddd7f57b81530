#!/usr/bin/env node
import { loadAccessControl, type AccessControl } from '@parkpulse/access';
import { loadConfigOrExit, maskSecrets } from '@parkpulse/config';
import { WS_PATH, startBroker } from './broker.js';
import { loadConfig } from './config.js';

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} broker ${line}\n`);

const config = loadConfigOrExit(() => loadConfig());

function readRegistry(): AccessControl {
  return loadAccessControl(config.registryFile);
}
let access: AccessControl;
try {
  access = readRegistry();
} catch (error) {
  process.stderr.write(`broker: ${(error as Error).message}\n`);
  process.exit(1);
}

const broker = await startBroker(config, log, access);
// SIGHUP re-reads the registry (e.g. after `parkpulse-admin add-device`); a broken file keeps
// the registry in force and says why.
process.on('SIGHUP', () => {
  try {
    const revoked = broker.reloadRegistry(readRegistry());
    log(`registry reloaded from ${config.registryFile}; ${revoked} client(s) disconnected`);
  } catch (error) {
    log(`registry NOT reloaded: ${(error as Error).message}`);
  }
});
log(
  `listening: ${Object.entries(broker.ports)
    .map(([name, port]) => `${name} ${config.host}:${port}`)
    .join(
      ', ',
    )} (ws/wss on ${WS_PATH}; /health, /metrics on http) ${JSON.stringify(maskSecrets({ ...config }))}`,
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
