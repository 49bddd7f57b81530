import { parentPort, workerData } from 'node:worker_threads';
import { serviceCredentials } from '@parkpulse/dev-services';
import { BenchClient, benchPayload, qos0Packet } from './loadgen.js';

/** What {@link floodRun} gives the worker. */
export interface FloodWorkerData {
  readonly host: string;
  readonly port: number;
  /** Device id of the flooding client; none = no flood (the baseline). */
  readonly floodId?: string;
  readonly subscriberSuffix: string;
}

/** What the worker answers to 'stop'. */
export interface FloodWorkerResult {
  readonly type: 'result';
  /** QoS-0 messages the flooder wrote (TCP took them: the broker read them or they wait unread). */
  readonly floodWritten: number;
  /** Whether the broker closed the flooder's connection. */
  readonly floodCutOff: boolean;
  /** Messages the subscriber received. */
  readonly received: number;
}

/**
 * The rest of the world of a flood run, on a thread of its own so that its work never delays the
 * main thread's PUBACK timestamps: the flooding device (QoS 0, batches of 50 pre-built packets,
 * as fast as TCP takes them) and a subscriber to `parks/#` at QoS 1 standing in for the ingestion.
 */
const data = workerData as FloodWorkerData;
const port = parentPort!;
const BATCH = 50;

const login = serviceCredentials('parkpulse-observer', data.subscriberSuffix);
const subscriber = new BenchClient(login.clientId, data.host, data.port, login);
let received = 0;
await subscriber.connect();
subscriber.subscribe('parks/#', 1, () => received++);

const flooder = data.floodId ? new BenchClient(data.floodId, data.host, data.port) : undefined;
await flooder?.connect();
let running = false;
let written = 0;

async function flood(client: BenchClient, id: string): Promise<void> {
  const topic = `parks/science-city/bench-flood/energy_meter/${id}/telemetry`;
  const now = Date.now();
  const batch = Buffer.concat(
    Array.from({ length: BATCH }, (_, i) => qos0Packet(topic, benchPayload(now + i, i + 1))),
  );
  while (running && !client.isClosed) {
    written += BATCH;
    if (!client.write(batch)) await client.drained();
  }
}

port.on('message', (message: string) => {
  if (message === 'start') {
    running = true;
    if (flooder && data.floodId) void flood(flooder, data.floodId);
  } else if (message === 'stop') {
    running = false;
    // the deliveries of what was accepted keep coming for a moment
    setTimeout(() => {
      const result: FloodWorkerResult = {
        type: 'result',
        floodWritten: written,
        floodCutOff: flooder?.isClosed ?? false,
        received,
      };
      port.postMessage(result);
      flooder?.destroy();
      subscriber.destroy();
    }, 1000);
  }
});
port.postMessage({ type: 'ready' });
