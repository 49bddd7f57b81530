import type { SimDevice } from '../device.js';
import {
  FleetGenerator,
  scenarioFleet,
  wirePayload,
  type FleetDevice,
  type SimMessage,
} from '../generator.js';
import { summarise, type RunReport } from '../report.js';
import { createRng } from '../rng.js';
import type { Fault, Scenario } from '../scenario.js';
import { scenarioGateways, SparkplugGateway, type GatewayCounters } from '../sparkplug/gateway.js';
import { connectFleet, loginOf, settle, sleep } from './connect.js';

export interface RunOptions {
  readonly url: string;
  readonly scenario: Scenario;
  /** Virtual seconds per real second. */
  readonly speed?: number;
  readonly durationMs: number;
  /**
   * Virtual start time. Default: `now − duration × (speed − 1)`, so that virtual time reaches the
   * present exactly at the end and no timestamp is ever in the future.
   */
  readonly startMs?: number;
  readonly groupKey?: string;
  readonly username?: string;
  readonly password?: string;
  /** Called for the `broker-restart` fault (the simulator does not own the broker). */
  readonly restartBroker?: () => Promise<void>;
  readonly onMessage?: (message: SimMessage, wire: string) => void;
  readonly onConnect?: (deviceId: string, atMs: number, reconnect: boolean) => void;
  readonly onFault?: (fault: Fault, note: string) => void;
  readonly onProgress?: (report: RunReport, progress: number) => void;
  readonly signal?: AbortSignal;
}

const TICK_MS = 50;

/**
 * `run`: a scenario's fleet live, at a speed factor, for a duration, with the scenario's faults at
 * their times (real time since the start of publishing).
 */
export async function runScenario(options: RunOptions): Promise<
  RunReport & {
    readonly startMs: number;
    readonly endMs: number;
    /** Totals of the scenario's Sparkplug gateways, when it has any. */
    readonly sparkplug?: GatewayCounters & { readonly gateways: number };
  }
> {
  const speed = options.speed ?? 1;
  const fleet = scenarioFleet(options.scenario);
  if (!(speed > 0)) throw new Error('speed must be > 0');
  // Slower than real time (speed < 1) starts now; faster starts in the past. Either way virtual
  // time never passes the present, so no timestamp is in the future.
  const startMs =
    options.startMs ?? Math.round(Date.now() - options.durationMs * Math.max(0, speed - 1));
  const generator = new FleetGenerator(fleet, options.scenario, startMs);
  const latencies: number[] = [];
  let started = performance.now();
  // Commands act on the device's model at the simulation's present (virtual time).
  const virtualNow = () =>
    startMs + Math.min(performance.now() - started, options.durationMs) * speed;
  const devices = await connectFleet(
    fleet,
    {
      ...options,
      seed: options.scenario.seed,
      onCommand: (index, command) =>
        generator.command(index, command.name, command.params, virtualNow()),
    },
    latencies,
  );
  const gateways = scenarioGateways(options.scenario).map(
    (spec) =>
      new SparkplugGateway(spec, {
        url: options.url,
        ...loginOf(spec.node, options),
        seed: options.scenario.seed,
        qos: options.scenario.sparkplug?.qos ?? 0,
        startMs,
      }),
  );
  await Promise.all(gateways.map((g) => g.connect()));
  const rng = createRng(options.scenario.seed ^ 0xfa017);
  const pendingFaults = [...options.scenario.faults].sort((a, b) => a.at - b.at);
  started = performance.now();
  const report = () => summarise('run', devices, latencies, (performance.now() - started) / 1000);
  let progressTimer: NodeJS.Timeout | undefined;
  if (options.onProgress) {
    progressTimer = setInterval(
      () =>
        options.onProgress?.(
          report(),
          Math.min(1, (performance.now() - started) / options.durationMs),
        ),
      1000,
    );
  }
  const faultWork: Promise<void>[] = [];
  try {
    for (;;) {
      const elapsed = performance.now() - started;
      const virtualNow = startMs + Math.min(elapsed, options.durationMs) * speed;
      while (pendingFaults.length > 0 && pendingFaults[0]!.at <= elapsed) {
        const fault = pendingFaults.shift()!;
        if (fault.kind === 'door-ajar') {
          doorAjar(fault, fleet, generator, virtualNow, rng, options);
          // Again `every` later (the run's end stops the loop).
          if (fault.every) {
            pendingFaults.push({ ...fault, at: fault.at + fault.every });
            pendingFaults.sort((a, b) => a.at - b.at);
          }
        } else faultWork.push(inject(fault, devices, rng, options));
      }
      for (const message of generator.until(virtualNow))
        dispatch(message, devices[message.device.index]!, options);
      for (const g of gateways) g.step(virtualNow);
      if (elapsed >= options.durationMs || options.signal?.aborted) break;
      await sleep(TICK_MS);
    }
    await Promise.all(faultWork);
    await settle(devices, 60_000);
  } finally {
    clearInterval(progressTimer);
    await Promise.all(devices.map((d) => d.close()));
    await Promise.all(gateways.map((g) => g.close()));
  }
  const end = { ...report(), startMs, endMs: startMs + options.durationMs * speed };
  if (gateways.length === 0) return end;
  const sparkplug = {
    gateways: gateways.length,
    connects: 0,
    births: 0,
    data: 0,
    metrics: 0,
    rebirths: 0,
    acked: 0,
    failed: 0,
  };
  for (const g of gateways)
    for (const k of Object.keys(g.counters) as (keyof GatewayCounters)[])
      sparkplug[k] += g.counters[k];
  return { ...end, sparkplug };
}

function dispatch(message: SimMessage, device: SimDevice, options: RunOptions): void {
  options.onMessage?.(message, wirePayload(message));
  switch (message.kind) {
    case 'telemetry':
      void device.sendSample(message.payload);
      return;
    case 'event':
      device.sendEvent(message.payload);
      return;
    case 'malformed':
      device.sendMalformed(message.payload);
      return;
  }
}

/** A freezer's door left ajar: one freezer of the fleet, drawn at random. */
function doorAjar(
  fault: Extract<Fault, { kind: 'door-ajar' }>,
  fleet: readonly FleetDevice[],
  generator: FleetGenerator,
  virtualNow: number,
  rng: () => number,
  options: RunOptions,
): void {
  const freezers = fleet.filter((d) => d.asset.id === 'ultra_low_freezer');
  const freezer = freezers[Math.floor(rng() * freezers.length)];
  if (!freezer) {
    options.onFault?.(fault, 'skipped: the fleet has no ultra-low freezer');
    return;
  }
  generator.incident(freezer.index, 'door-ajar', virtualNow, fault.lasting);
  options.onFault?.(
    fault,
    `${freezer.deviceId}: door left ajar for ${Math.round(fault.lasting / 1000)} s`,
  );
}

async function inject(
  fault: Fault,
  devices: readonly SimDevice[],
  rng: () => number,
  options: RunOptions,
): Promise<void> {
  switch (fault.kind) {
    case 'door-ajar':
      return; // acts on the device's model: see doorAjar
    case 'broker-restart':
      if (!options.restartBroker) {
        options.onFault?.(
          fault,
          'skipped: no way to restart the broker was given (--broker-restart-cmd)',
        );
        return;
      }
      options.onFault?.(fault, 'restarting the broker');
      await options.restartBroker();
      return;
    case 'reconnect-storm': {
      const victims = devices.filter(() => rng() < fault.share);
      options.onFault?.(fault, `dropping ${victims.length} connections at once`);
      for (const d of victims) d.drop();
      return;
    }
    case 'flap': {
      const device =
        devices.find((d) => d.deviceId === fault.device) ??
        devices[Math.floor(rng() * devices.length)]!;
      options.onFault?.(
        fault,
        `${device.deviceId} drops ${fault.times} times every ${fault.every} ms`,
      );
      for (let i = 0; i < fault.times; i++) {
        // Each flap is a drop of a live connection: wait for the device to be back first.
        for (let waited = 0; !device.connected && waited < 30_000; waited += 50) await sleep(50);
        device.drop();
        await sleep(fault.every);
      }
      return;
    }
    case 'malformed-burst':
      options.onFault?.(fault, `${fault.count} malformed messages`);
      for (let i = 0; i < fault.count; i++)
        devices[Math.floor(rng() * devices.length)]!.sendMalformed(
          `{"burst": ${i}, "metrics": "not an object"}`,
        );
      return;
  }
}
