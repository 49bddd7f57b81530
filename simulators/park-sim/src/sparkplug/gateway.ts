import { getAssetType, type AssetTypeSpec, type FieldValue } from '@parkpulse/telemetry';
import mqtt, { type MqttClient } from 'mqtt';
import { createModel, type DeviceModel } from '../models/index.js';
import { hashString } from '../rng.js';
import type { Scenario } from '../scenario.js';
import { EdgeNodeSession, type EdgeNodeMessage } from './edge-node.js';

/** A PLC gateway of one production line: an edge node carrying the line's machines. */
export interface GatewaySpec {
  readonly group: string;
  /** Sparkplug edge node id, also its MQTT client id and username. */
  readonly node: string;
  readonly park: 'science-city';
  readonly site: string;
  /** The ParkPulse device the edge node itself is (the line). */
  readonly deviceId: string;
  readonly asset: AssetTypeSpec;
  readonly devices: readonly {
    readonly id: string;
    readonly deviceId: string;
    readonly asset: AssetTypeSpec;
  }[];
  readonly intervalMs: number;
}

/**
 * The scenario's Sparkplug gateways: per `lines` entry, `count` lines of a site, each one edge
 * node `{site}-line-{n}-plc` (a `production_line`) with its machines as Sparkplug devices.
 * Empty unless `sparkplug.enabled`.
 */
export function scenarioGateways(scenario: Scenario): GatewaySpec[] {
  const sp = scenario.sparkplug;
  if (!sp?.enabled) return [];
  const line = getAssetType('production_line')!;
  const out: GatewaySpec[] = [];
  for (const group of sp.lines) {
    for (let n = 1; n <= group.count; n++) {
      const node = `${group.site}-line-${n}-plc`;
      const devices: { id: string; deviceId: string; asset: AssetTypeSpec }[] = [];
      for (const [type, count] of Object.entries(group.machines)) {
        const asset = getAssetType(type)!;
        const short = type.replace(/_/g, '-');
        for (let m = 1; m <= count; m++) {
          const id = `${short}-${String(m).padStart(2, '0')}`;
          devices.push({ id, deviceId: `sc-${group.site}-line-${n}-${id}`.slice(0, 64), asset });
        }
      }
      out.push({
        group: sp.group,
        node,
        park: 'science-city',
        site: group.site,
        deviceId: `sc-${group.site}-line-${n}`,
        asset: line,
        devices,
        intervalMs: Math.max(10, Math.round(line.reportIntervalS * 1000 * scenario.intervalScale)),
      });
    }
  }
  return out;
}

/**
 * The registry's `sparkplug.nodes` entries for these gateways (what the host needs to map
 * them), in the registry file's shape.
 */
export function gatewayRegistryNodes(gateways: readonly GatewaySpec[]) {
  return gateways.map((g) => ({
    group: g.group,
    node: g.node,
    park: g.park,
    site: g.site,
    assetType: g.asset.id,
    deviceId: g.deviceId,
    devices: g.devices.map((d) => ({ id: d.id, assetType: d.asset.id, deviceId: d.deviceId })),
  }));
}

/** Delay before a reconnect (a gateway is one connection: no storm to spread). */
const RECONNECT_MS = 1000;

export interface GatewayCounters {
  connects: number;
  births: number;
  data: number;
  metrics: number;
  rebirths: number;
  /** QoS-1 publishes the broker acknowledged (QoS 0: none). */
  acked: number;
  failed: number;
}

export interface GatewayOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly seed: number;
  readonly qos?: 0 | 1;
  /** Virtual time of the simulation (births use it too). */
  readonly startMs: number;
  /** Called with every message the gateway publishes (tests, recording). */
  readonly onPublish?: (message: EdgeNodeMessage) => void;
}

/**
 * A simulated PLC gateway on its own MQTT connection, speaking Sparkplug B: the NDEATH with a
 * fresh bdSeq as its will on every CONNECT (QoS 1), the birth sequence after each CONNACK,
 * DATA by exception as the machines' models step in virtual time, and the birth sequence again
 * when the host asks for a rebirth.
 */
export class SparkplugGateway {
  readonly counters: GatewayCounters = {
    connects: 0,
    births: 0,
    data: 0,
    metrics: 0,
    rebirths: 0,
    acked: 0,
    failed: 0,
  };
  readonly session: EdgeNodeSession;
  private client: MqttClient | undefined;
  private readonly nodeModel: DeviceModel;
  private readonly deviceModels: Map<string, DeviceModel>;
  private due: number;
  private now: number;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** The NDEATH registered with the current connection. */
  private will: EdgeNodeMessage | undefined;

  constructor(
    readonly spec: GatewaySpec,
    private readonly options: GatewayOptions,
  ) {
    this.session = new EdgeNodeSession({
      group: spec.group,
      node: spec.node,
      asset: spec.asset,
      devices: spec.devices.map((d) => ({ id: d.id, asset: d.asset })),
      qos: options.qos ?? 0,
    });
    const model = (deviceId: string, asset: AssetTypeSpec) =>
      createModel(
        { deviceId, asset, park: spec.park, site: spec.site, seed: options.seed },
        options.startMs,
      );
    this.nodeModel = model(spec.deviceId, spec.asset);
    this.deviceModels = new Map(spec.devices.map((d) => [d.id, model(d.deviceId, d.asset)]));
    this.now = options.startMs;
    this.due = options.startMs + (hashString(spec.node) % spec.intervalMs);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /**
   * Connects, and after a loss connects again: each CONNECT is a new session, a new client with
   * the next bdSeq's NDEATH as its will (a fresh client rather than mqtt.js' reconnect, which
   * keeps the old will and, now and then, never comes back after a reset).
   */
  async connect(): Promise<void> {
    const client = this.open();
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  }

  private open(): MqttClient {
    const will = this.session.connect(Date.now());
    this.will = will;
    const client = mqtt.connect(this.options.url, {
      clientId: this.spec.node,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ...(this.options.username !== undefined
        ? { username: this.options.username, password: this.options.password ?? '' }
        : {}),
      will: { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain },
    });
    this.client = client;
    client.on('connect', () => {
      this.counters.connects++;
      client.subscribe(this.session.subscriptions(), { qos: 0 });
      this.birth();
    });
    client.once('close', () => {
      if (this.closing) return;
      client.end(true);
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = setTimeout(() => {
        if (!this.closing) this.open();
      }, RECONNECT_MS);
    });
    client.on('error', () => undefined);
    client.on('message', (topic, payload) => {
      if (this.session.isRebirthRequest(topic, payload)) {
        this.counters.rebirths++;
        this.birth();
      }
    });
    return client;
  }

  /** Steps the models up to virtual time `t` and publishes what changed. */
  step(t: number): void {
    while (this.due <= t) {
      this.now = this.due;
      const node = this.session.data(this.due, undefined, this.nodeModel.step(this.due).metrics);
      if (node) this.publish(node, 'data');
      for (const d of this.spec.devices) {
        const readings = this.deviceModels.get(d.id)!.step(this.due).metrics;
        const message = this.session.data(this.due, d.id, readings);
        if (message) this.publish(message, 'data');
      }
      this.due += this.spec.intervalMs;
    }
  }

  /** Drops the connection without DISCONNECT: the broker publishes the NDEATH will. */
  drop(): void {
    this.client?.stream.destroy();
  }

  /**
   * An intentional disconnect: the NDEATH first (a DISCONNECT suppresses the will)
   * [tck-id-operational-behavior-edge-node-intentional-disconnect-ndeath], then the connection.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (!client) return;
    const will = this.will;
    if (client.connected && will)
      await new Promise<void>((resolve) =>
        client.publish(will.topic, will.payload, { qos: 0, retain: false }, () => resolve()),
      );
    // An ended client (lost, a new one pending) never calls back again: end it and go.
    if (!client.connected) {
      client.end(true);
      return;
    }
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }

  private birth(): void {
    const node = this.nodeModel.step(this.now).metrics;
    const devices: Record<string, Record<string, FieldValue>> = {};
    for (const d of this.spec.devices)
      devices[d.id] = this.deviceModels.get(d.id)!.step(this.now).metrics;
    for (const m of this.session.births(this.now, node, devices)) this.publish(m, 'birth');
  }

  private publish(message: EdgeNodeMessage, kind: 'birth' | 'data'): void {
    if (kind === 'birth') this.counters.births++;
    else this.counters.data++;
    this.counters.metrics += message.metrics;
    this.options.onPublish?.(message);
    const client = this.client;
    if (!client?.connected) return; // DATA while offline is lost; a rebirth follows the reconnect
    client.publish(message.topic, message.payload, { qos: message.qos, retain: false }, (error) => {
      if (error) this.counters.failed++;
      else if (message.qos === 1) this.counters.acked++;
    });
  }
}
