import {
  formatTopic,
  getAssetType,
  normaliseMetricName,
  parseTopic,
  type MetricRename,
  type ParsedTopic,
  type ValueDrop,
} from '@parkpulse/telemetry';

/** A Sparkplug device of an edge node, as ParkPulse knows it. */
export interface SparkplugDeviceMapping {
  /** The Sparkplug device id (the topic's fifth level). */
  readonly id: string;
  readonly assetType: string;
  /** The ParkPulse device id (the `device` tag). */
  readonly deviceId: string;
  /** The device's site when it is not its edge node's. */
  readonly site?: string;
}

/**
 * An edge node, declared in the registry: its Sparkplug group and id, and what it is in
 * ParkPulse — the edge node itself is a device too (a PLC gateway of a production line is the
 * line), its Sparkplug devices are the machines it carries.
 */
export interface SparkplugNodeMapping {
  readonly group: string;
  readonly node: string;
  readonly park: string;
  readonly site: string;
  readonly assetType: string;
  readonly deviceId: string;
  readonly devices: readonly SparkplugDeviceMapping[];
}

/** What to do with a metric whose name maps to no catalogue metric of its asset type. */
export type UnmappedMetrics = 'store' | 'refuse';

export interface SparkplugMapping {
  /** The host application's id: `spBv1.0/STATE/{hostId}`. */
  readonly hostId: string;
  readonly nodes: readonly SparkplugNodeMapping[];
  /** Per asset type: Sparkplug metric name → catalogue metric name. */
  readonly metricNames?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * `store` (default): under the default normalisation of its name (bounded by the cardinality
   * guard); `refuse`: dropped as `metric_unmapped`.
   */
  readonly unmappedMetrics?: UnmappedMetrics;
}

/** A mapped node or device: its ParkPulse address and how its metric names are read. */
export interface MappedTarget {
  readonly topic: ParsedTopic;
  readonly rename: MetricRename;
}

export interface MappedNode extends MappedTarget {
  readonly devices: ReadonlyMap<string, MappedTarget>;
}

/**
 * The mapping, checked once (unknown parks, asset types, bad ids, duplicates: every problem
 * listed in one error) and indexed by `{group}/{node}`.
 */
export class MappingIndex {
  private readonly nodes = new Map<string, MappedNode>();

  constructor(readonly mapping: SparkplugMapping) {
    const problems: string[] = [];
    const unmapped = mapping.unmappedMetrics ?? 'store';
    const renames = new Map<string, MetricRename>();
    const renameFor = (assetType: string): MetricRename => {
      let r = renames.get(assetType);
      if (!r) {
        r = metricRename(assetType, mapping.metricNames?.[assetType] ?? {}, unmapped);
        renames.set(assetType, r);
      }
      return r;
    };
    const target = (
      what: string,
      address: { park: string; site: string; assetType: string; deviceId: string },
    ) => {
      const topic = parseTopic(formatTopic({ ...address, channel: 'telemetry' } as ParsedTopic));
      if (!topic.ok) {
        problems.push(`${what}: ${topic.error.detail}`);
        return undefined;
      }
      return { topic: topic.value, rename: renameFor(address.assetType) };
    };
    const deviceIds = new Set<string>();
    for (const n of mapping.nodes) {
      const key = `${n.group}/${n.node}`;
      if (this.nodes.has(key)) problems.push(`edge node ${key}: listed twice`);
      const self = target(`edge node ${key}`, n);
      const devices = new Map<string, MappedTarget>();
      for (const d of n.devices) {
        if (devices.has(d.id)) problems.push(`device ${key}/${d.id}: listed twice`);
        const t = target(`device ${key}/${d.id}`, {
          park: n.park,
          site: d.site ?? n.site,
          assetType: d.assetType,
          deviceId: d.deviceId,
        });
        if (t) devices.set(d.id, t);
      }
      for (const id of [n.deviceId, ...n.devices.map((d) => d.deviceId)]) {
        if (deviceIds.has(`${n.park}/${id}`))
          problems.push(`ParkPulse device ${id} is mapped twice in park ${n.park}`);
        deviceIds.add(`${n.park}/${id}`);
      }
      if (self) this.nodes.set(key, { ...self, devices });
    }
    for (const [assetType, table] of Object.entries(mapping.metricNames ?? {})) {
      const spec = getAssetType(assetType);
      if (!spec) {
        problems.push(`metricNames.${assetType}: not an asset type of the catalogue`);
        continue;
      }
      for (const [from, to] of Object.entries(table))
        if (!Object.hasOwn(spec.metrics, to))
          problems.push(`metricNames.${assetType}."${from}": "${to}" is not a ${assetType} metric`);
    }
    if (problems.length > 0)
      throw new Error(
        `sparkplug mapping: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`,
      );
  }

  node(group: string, node: string): MappedNode | undefined {
    return this.nodes.get(`${group}/${node}`);
  }

  get size(): number {
    return this.nodes.size;
  }
}

/**
 * Sparkplug name → catalogue metric name for one asset type: the declared table first, then
 * the default normalisation (`Motor/Speed RPM` → `motor_speed_rpm`); a result outside the
 * catalogue is stored under that name or refused (`metric_unmapped`), per `unmapped`.
 */
export function metricRename(
  assetType: string,
  table: Readonly<Record<string, string>>,
  unmapped: UnmappedMetrics,
): MetricRename {
  const spec = getAssetType(assetType);
  const read = (name: string): string | ValueDrop => {
    if (Object.hasOwn(table, name)) return table[name] ?? '';
    const normal = normaliseMetricName(name);
    if (typeof normal === 'object') return normal;
    if (unmapped === 'refuse' && !(spec && Object.hasOwn(spec.metrics, normal)))
      return {
        reason: 'metric_unmapped',
        detail: `"${normal}" is no ${assetType} metric and no mapping names it`,
      };
    return normal;
  };
  // Every DATA message names the same few metrics again: each name is read once (the regular
  // expressions of the normalisation were 5 % of the ingestion's CPU), up to a bound so that a
  // node sending ever new names cannot grow the cache without end.
  const known = new Map<string, string | ValueDrop>();
  return (name: string): string | ValueDrop => {
    let result = known.get(name);
    if (result === undefined) {
      result = read(name);
      if (known.size < RENAME_CACHE_SIZE) known.set(name, result);
    }
    return result;
  };
}

/** Metric names per asset type whose catalogue name is remembered. */
export const RENAME_CACHE_SIZE = 4096;
