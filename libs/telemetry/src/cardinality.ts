import { fail, ok, type Result } from './errors.js';
import type { FieldDrop, FieldValue, Sample, TelemetryMessage } from './model.js';
import type { TopicAddress } from './topic.js';
import { getAssetType } from './catalogue/index.js';

/**
 * Bounds on what makes InfluxDB series and fields: the tags `park`, `site`, `device` and the
 * field names outside the catalogue. A gateway that declares thousands of metrics, or a fleet
 * that invents device ids, must not create series without end.
 */
export interface CardinalityLimits {
  /** Distinct metric names outside the catalogue stored per asset type. */
  readonly maxExtraMetricsPerAssetType: number;
  /** Distinct sites per park. */
  readonly maxSitesPerPark: number;
  /** Distinct devices (site + device id) per park. */
  readonly maxDevicesPerPark: number;
}

/**
 * Defaults: 64 extra metrics per asset type (the largest catalogue type has 20 metrics),
 * 256 sites and 50,000 devices per park (the load scenario runs 10,000 devices in one park).
 */
export const DEFAULT_CARDINALITY_LIMITS: CardinalityLimits = {
  maxExtraMetricsPerAssetType: 64,
  maxSitesPerPark: 256,
  maxDevicesPerPark: 50_000,
};

export interface CardinalityFigures {
  readonly extraMetrics: Readonly<Record<string, number>>;
  readonly sites: Readonly<Record<string, number>>;
  readonly devices: Readonly<Record<string, number>>;
}

/**
 * The cardinality guard, for every decoder's messages: a new site or device beyond its park's
 * bound refuses the message (`cardinality_exceeded`); a new metric name outside the catalogue
 * beyond its asset type's bound drops that field (`cardinality_exceeded`), the rest is kept.
 * What was admitted once stays admitted. In memory: an ingestion restart starts counting again
 * from what it is sent (the bounds hold per process, so a fleet sees at most the bound per
 * ingestion instance).
 */
export class CardinalityGuard {
  private readonly extra = new Map<string, Set<string>>();
  private readonly sites = new Map<string, Set<string>>();
  private readonly devices = new Map<string, Set<string>>();

  constructor(readonly limits: CardinalityLimits = DEFAULT_CARDINALITY_LIMITS) {}

  /** Whether a device's tags may make (or already make) a series. */
  admitDevice(address: Pick<TopicAddress, 'park' | 'site' | 'deviceId'>): Result<true> {
    const sites = setOf(this.sites, address.park);
    if (!sites.has(address.site)) {
      if (sites.size >= this.limits.maxSitesPerPark)
        return fail(
          'cardinality_exceeded',
          `park ${address.park} has ${sites.size} sites, at most ${this.limits.maxSitesPerPark}`,
        );
    }
    const devices = setOf(this.devices, address.park);
    const key = `${address.site}/${address.deviceId}`;
    if (!devices.has(key) && devices.size >= this.limits.maxDevicesPerPark)
      return fail(
        'cardinality_exceeded',
        `park ${address.park} has ${devices.size} devices, at most ${this.limits.maxDevicesPerPark}`,
      );
    sites.add(address.site);
    devices.add(key);
    return ok(true);
  }

  /**
   * A validated telemetry message within the bounds: refused when its device is one too many,
   * else with the fields beyond its asset type's bound dropped (and listed in `dropped`).
   */
  check(message: TelemetryMessage): Result<TelemetryMessage> {
    const admitted = this.admitDevice(message.topic);
    if (!admitted.ok) return admitted;
    const spec = getAssetType(message.topic.assetType) ?? message.topic.asset;
    const extra = setOf(this.extra, message.topic.assetType);
    const dropped: FieldDrop[] = [...message.dropped];
    let changed = false;
    const samples: Sample[] = [];
    for (const sample of message.samples) {
      const fields: Record<string, FieldValue> = {};
      let kept = 0;
      for (const [name, value] of Object.entries(sample.fields)) {
        if (!Object.hasOwn(spec.metrics, name) && !extra.has(name)) {
          if (extra.size >= this.limits.maxExtraMetricsPerAssetType) {
            dropped.push({
              metric: name,
              reason: 'cardinality_exceeded',
              detail: `${message.topic.assetType} has ${extra.size} metrics outside the catalogue, at most ${this.limits.maxExtraMetricsPerAssetType}`,
            });
            changed = true;
            continue;
          }
          extra.add(name);
        }
        fields[name] = value;
        kept++;
      }
      if (kept > 0) samples.push({ ...sample, fields });
    }
    if (!changed) return ok(message);
    if (samples.length === 0)
      return fail(
        'cardinality_exceeded',
        dropped
          .filter((d) => d.reason === 'cardinality_exceeded')
          .map((d) => d.metric)
          .join(', ')
          .slice(0, 200),
      );
    return ok({ ...message, samples, dropped });
  }

  figures(): CardinalityFigures {
    const sizes = (m: Map<string, Set<string>>) =>
      Object.fromEntries([...m.entries()].map(([k, v]) => [k, v.size]));
    return {
      extraMetrics: sizes(this.extra),
      sites: sizes(this.sites),
      devices: sizes(this.devices),
    };
  }
}

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}
