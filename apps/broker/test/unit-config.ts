import { DEFAULT_DISPATCHER_CONFIG } from '../src/capture/dispatcher.js';
import type { BrokerConfig } from '../src/config.js';

/** A broker for unit tests: loopback, ports chosen by the system, no stats, plain text. */
export function unitConfig(overrides: Partial<BrokerConfig> = {}): BrokerConfig {
  return {
    id: 'unit',
    host: '127.0.0.1',
    mqttPort: 0,
    wsPort: 0,
    httpPort: 0,
    connectTimeoutMs: 5000,
    statsIntervalMs: 0,
    ingestLink: { host: '127.0.0.1', port: 0, dispatcher: DEFAULT_DISPATCHER_CONFIG },
    registryFile: '(in memory)',
    plaintext: true,
    ...overrides,
  };
}
