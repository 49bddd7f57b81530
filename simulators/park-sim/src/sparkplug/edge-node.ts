import {
  decodeSparkplugPayload,
  encodeSparkplugPayload,
  formatSparkplugTopic,
  parseSparkplugTopic,
  SPARKPLUG_DATATYPES as D,
  type AssetTypeSpec,
  type FieldValue,
  type MetricToEncode,
} from '@parkpulse/telemetry';

/** A message an edge node publishes (or registers as its will). */
export interface EdgeNodeMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: false;
  /** Metrics it carries (for the report's metrics/s). */
  readonly metrics: number;
}

export interface EdgeNodeDevice {
  /** Sparkplug device id. */
  readonly id: string;
  readonly asset: AssetTypeSpec;
}

export interface EdgeNodeOptions {
  readonly group: string;
  readonly node: string;
  /** What the edge node reports itself (a line's PLC: the line's metrics). */
  readonly asset: AssetTypeSpec;
  readonly devices: readonly EdgeNodeDevice[];
  /**
   * QoS of DATA and DDEATH. The specification wants 0 [tck-id-topics-ddata-mqtt]; 1 makes the
   * broker's PUBACK mean stored (ParkPulse's delivery guarantee) at the price of that
   * deviation. BIRTHs are always QoS 0 [tck-id-topics-nbirth-mqtt]: a QoS-1 BIRTH resent after
   * a reconnect would arrive after the NDEATH of its session and start a stale one (a lost
   * BIRTH heals itself: the host's rebirth request).
   */
  readonly qos?: 0 | 1;
}

/**
 * The Sparkplug name of a catalogue metric: its first word as a folder, the rest as words
 * (`spindle_load_pct` → `Spindle/Load Pct`), which the host's default normalisation turns
 * back into the catalogue name.
 */
export function sparkplugMetricName(catalogueName: string): string {
  const words = catalogueName.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1));
  return words.length === 1 ? (words[0] ?? '') : `${words[0]}/${words.slice(1).join(' ')}`;
}

function datatypeOf(value: FieldValue): number {
  return typeof value === 'boolean' ? D.Boolean : typeof value === 'string' ? D.String : D.Double;
}

/**
 * The protocol of one Sparkplug B edge node, without MQTT: what it registers as its will and
 * what it publishes, spec-correct —
 * - bdSeq starts at 0 and grows by one on every CONNECT (0–255) [tck-id-topics-nbirth-bdseq-increment];
 *   the will is the NDEATH with that bdSeq and QoS 1 [tck-id-payloads-ndeath-will-message-qos];
 * - NBIRTH at seq 0 with `bdSeq`, `Node Control/Rebirth` and every metric with name, alias and
 *   datatype, then one DBIRTH per device; seq +1 per message, 255 → 0;
 * - DATA by exception: only metrics whose value changed, by alias only;
 * - an NCMD `Node Control/Rebirth` = true → the whole birth sequence again (same bdSeq).
 */
export class EdgeNodeSession {
  private bdSeq = -1;
  private seq = 0;
  /** Alias per `{device}/{metric}` ('' for the node), unique across the node. */
  private readonly aliases = new Map<string, number>();
  /** Last value sent per alias (report by exception). */
  private readonly last = new Map<number, FieldValue>();
  readonly qos: 0 | 1;

  constructor(readonly options: EdgeNodeOptions) {
    this.qos = options.qos ?? 0;
    let alias = 1;
    for (const name of Object.keys(options.asset.metrics)) this.aliases.set(`/${name}`, alias++);
    for (const d of options.devices)
      for (const name of Object.keys(d.asset.metrics)) this.aliases.set(`${d.id}/${name}`, alias++);
  }

  /** The next CONNECT: its will (the NDEATH carrying the new bdSeq). */
  connect(now: number): EdgeNodeMessage {
    this.bdSeq = (this.bdSeq + 1) % 256;
    return {
      topic: this.topic('NDEATH'),
      payload: encodeSparkplugPayload({
        timestamp: now,
        metrics: [{ name: 'bdSeq', datatype: D.Int64, value: this.bdSeq }],
      }),
      qos: 1,
      retain: false,
      metrics: 1,
    };
  }

  get currentBdSeq(): number {
    return this.bdSeq;
  }

  /** NBIRTH and a DBIRTH per device, with the current readings (metric name → value). */
  births(
    now: number,
    node: Readonly<Record<string, FieldValue>>,
    devices: Readonly<Record<string, Readonly<Record<string, FieldValue>>>>,
  ): EdgeNodeMessage[] {
    this.seq = 0;
    this.last.clear();
    const out: EdgeNodeMessage[] = [];
    out.push(
      this.message('NBIRTH', undefined, now, [
        { name: 'bdSeq', datatype: D.Int64, value: this.bdSeq },
        { name: 'Node Control/Rebirth', datatype: D.Boolean, value: false },
        ...this.birthMetrics('', node),
      ]),
    );
    for (const d of this.options.devices)
      out.push(this.message('DBIRTH', d.id, now, this.birthMetrics(d.id, devices[d.id] ?? {})));
    return out;
  }

  /** NDATA (device undefined) or DDATA with the metrics that changed, or nothing. */
  data(
    now: number,
    device: string | undefined,
    readings: Readonly<Record<string, FieldValue>>,
  ): EdgeNodeMessage | undefined {
    const metrics: MetricToEncode[] = [];
    for (const [name, value] of Object.entries(readings)) {
      const alias = this.aliases.get(`${device ?? ''}/${name}`);
      if (alias === undefined || this.last.get(alias) === value) continue;
      this.last.set(alias, value);
      metrics.push({ alias, timestamp: now, datatype: datatypeOf(value), value });
    }
    if (metrics.length === 0) return undefined;
    return this.message(device === undefined ? 'NDATA' : 'DDATA', device, now, metrics);
  }

  /** DDEATH of a device the node lost. */
  deviceDeath(now: number, device: string): EdgeNodeMessage {
    return this.message('DDEATH', device, now, []);
  }

  /** Whether an inbound message is a rebirth request for this node. */
  isRebirthRequest(topic: string, payload: Buffer): boolean {
    const t = parseSparkplugTopic(topic);
    if (!t.ok || t.value.kind !== 'node' || t.value.verb !== 'NCMD') return false;
    if (t.value.group !== this.options.group || t.value.node !== this.options.node) return false;
    const decoded = decodeSparkplugPayload(payload);
    return (
      decoded.ok &&
      decoded.value.metrics.some(
        (m) => m.name === 'Node Control/Rebirth' && m.value?.kind === 'boolean' && m.value.value,
      )
    );
  }

  /** What an edge node subscribes to: its NCMD and its devices' DCMD. */
  subscriptions(): string[] {
    return [this.topic('NCMD'), `spBv1.0/${this.options.group}/DCMD/${this.options.node}/+`];
  }

  private birthMetrics(device: string, readings: Readonly<Record<string, FieldValue>>) {
    const out: MetricToEncode[] = [];
    for (const [name, value] of Object.entries(readings)) {
      const alias = this.aliases.get(`${device}/${name}`);
      if (alias === undefined) continue;
      this.last.set(alias, value);
      out.push({ name: sparkplugMetricName(name), alias, datatype: datatypeOf(value), value });
    }
    return out;
  }

  private message(
    verb: 'NBIRTH' | 'NDATA' | 'DBIRTH' | 'DDATA' | 'DDEATH',
    device: string | undefined,
    now: number,
    metrics: MetricToEncode[],
  ): EdgeNodeMessage {
    const seq = this.seq;
    this.seq = (this.seq + 1) % 256;
    return {
      topic: this.topic(verb, device),
      payload: encodeSparkplugPayload({ timestamp: now, seq, metrics }),
      qos: verb === 'NBIRTH' || verb === 'DBIRTH' ? 0 : this.qos,
      retain: false,
      metrics: metrics.length,
    };
  }

  private topic(verb: string, device?: string): string {
    const { group, node } = this.options;
    return device === undefined
      ? formatSparkplugTopic({ kind: 'node', group, verb: verb as 'NBIRTH', node })
      : formatSparkplugTopic({ kind: 'device', group, verb: verb as 'DBIRTH', node, device });
  }
}
