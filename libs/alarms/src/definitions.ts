import { ASSET_TYPES, type AssetTypeSpec } from '@parkpulse/telemetry';

/**
 * ISA-18.2 recommends few priorities, used in proportion (about 80 % low, 15 % medium, 5 %
 * high); `critical` is kept for what threatens life, containment or irreplaceable samples.
 */
export const ALARM_PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type AlarmPriority = (typeof ALARM_PRIORITIES)[number];

/** Rank for sorting: critical first. */
export function priorityRank(priority: AlarmPriority): number {
  return ALARM_PRIORITIES.indexOf(priority);
}

/** What raises an alarm. */
export type AlarmSource =
  /** A gauge beyond a limit; it clears only once back past the limit by the deadband. */
  | {
      readonly kind: 'limit';
      readonly metric: string;
      readonly direction: 'above' | 'below';
      readonly limit: number;
      readonly deadband: number;
    }
  /** An enum or boolean metric taking one of `values` (a machine's `fault` state, a leak). */
  | { readonly kind: 'discrete'; readonly metric: string; readonly values: readonly FieldLike[] }
  /** A device event of that severity: raised and returned to normal at once (the operator acks). */
  | { readonly kind: 'event'; readonly severity: 'critical' }
  /** The device's presence: `offline` (a disconnect or its last will). */
  | { readonly kind: 'offline' };

export type FieldLike = number | boolean | string;

export interface AlarmDefinition {
  /** `{assetType}.{what}`, e.g. `ultra_low_freezer.cabinet_temp_c.hihi`. */
  readonly id: string;
  readonly assetType: string;
  /** The part of an alarm id after the device id: `cabinet_temp_c.hihi`. */
  readonly tag: string;
  readonly name: string;
  readonly source: AlarmSource;
  readonly priority: AlarmPriority;
  /** The condition must hold this long before the alarm is raised (no chattering). */
  readonly onDelayMs: number;
  /** … and must be gone this long before it returns to normal. */
  readonly offDelayMs: number;
  /** Stays `latched` after returning to normal until an operator resets (acknowledges) it. */
  readonly latched: boolean;
  /** Suppressed by design while this metric of the same device takes one of these values. */
  readonly suppressedWhen?: { readonly metric: string; readonly values: readonly string[] };
  /** What happens if nobody acts, and what the operator should do (the alarm's rationale). */
  readonly consequence: string;
  readonly response: string;
}

export interface DefinitionOptions {
  /** Multiplies every on/off delay (0: none; tests and demos). */
  readonly delayScale?: number;
  readonly assetTypes?: readonly AssetTypeSpec[];
}

/** Operator texts and priorities where the catalogue's generic ones are not enough. */
interface Override {
  readonly priority?: { readonly warning?: AlarmPriority; readonly critical?: AlarmPriority };
  readonly consequence?: string;
  readonly response?: string;
  readonly latched?: boolean;
}

const OVERRIDES: Readonly<Record<string, Override>> = {
  'ultra_low_freezer.cabinet_temp_c': {
    priority: { warning: 'medium', critical: 'critical' },
    consequence:
      'Samples stored at −80 °C degrade above about −70 °C; irreplaceable material may be lost within hours.',
    response:
      'Check the door is shut and the compressor runs; start backup cooling (CO₂/LN₂); move samples to the standby freezer if it keeps rising.',
  },
  'bsl_laboratory.room_pressure_pa': {
    priority: { warning: 'high', critical: 'critical' },
    consequence:
      'The lab is no longer held below the corridor: air may flow out of containment (pressure cascade lost).',
    response:
      'Stop work in the lab, keep the doors shut, check the exhaust fan and dampers; follow the containment-breach procedure.',
  },
  'bsl_laboratory.air_changes_per_h': {
    priority: { warning: 'medium', critical: 'high' },
    consequence: 'Too few air changes: aerosols are not removed fast enough.',
    response: 'Check the supply fan and the HEPA filters; stop aerosol-generating work.',
  },
  'cnc_machine.vibration_mm_s': {
    priority: { warning: 'low', critical: 'high' },
    consequence:
      'Spindle vibration above ISO 10816 zone C: bearing or tool damage, scrap parts, then a spindle failure.',
    response: 'Check tool wear and clamping; reduce the feed; plan a spindle inspection.',
  },
};

const PRIORITY_DEFAULT = { warning: 'low', critical: 'high' } as const;

/** Machines whose limits mean nothing while they are not producing. */
const MACHINE_NOT_RUNNING = { metric: 'state', values: ['idle', 'setup', 'maintenance'] } as const;

/**
 * State-based suppression by design: no `below` alarm (low flow, low speed) while a machine is
 * not running, and no containment alarm while the lab is being decontaminated or maintained
 * (its cascade is opened on purpose).
 */
function suppression(
  asset: AssetTypeSpec,
  metric: string,
  direction: 'above' | 'below',
): AlarmDefinition['suppressedWhen'] {
  if (
    asset.id === 'bsl_laboratory' &&
    metric !== 'hepa_supply_dp_pa' &&
    metric !== 'hepa_exhaust_dp_pa'
  )
    return { metric: 'mode', values: ['decontamination', 'maintenance'] };
  const state = asset.metrics['state'];
  const machine =
    state?.kind === 'enum' && MACHINE_NOT_RUNNING.values.every((v) => state.values?.includes(v));
  if (machine && (direction === 'below' || metric.startsWith('vibration')))
    return MACHINE_NOT_RUNNING;
  return undefined;
}

/** Discrete alarms the catalogue names: a metric value that is itself the abnormal condition. */
const DISCRETE: readonly {
  readonly assetType: string;
  readonly metric: string;
  readonly values: readonly FieldLike[];
  readonly name: string;
  readonly priority: AlarmPriority;
  readonly latched: boolean;
  readonly consequence: string;
  readonly response: string;
}[] = [
  {
    assetType: 'bsl_laboratory',
    metric: 'containment_ok',
    values: [false],
    name: 'Containment lost',
    priority: 'critical',
    latched: true,
    consequence: 'Pressure cascade or airflow out of limits: the lab may release aerosols.',
    response:
      'Evacuate per the containment-breach procedure; reset only once the cause is understood.',
  },
  {
    assetType: 'water_meter',
    metric: 'leak_alarm',
    values: [true],
    name: 'Water leak',
    priority: 'high',
    latched: true,
    consequence: 'Water is being lost, and may be flooding a plant room.',
    response: 'Send someone to isolate the supply; reset once the leak is fixed.',
  },
  {
    assetType: 'edge_rack',
    metric: 'leak_detected',
    values: [true],
    name: 'Leak in the rack',
    priority: 'high',
    latched: true,
    consequence: 'Liquid near powered equipment: short circuits and an outage.',
    response: 'Isolate the cooling loop; move workloads off the rack.',
  },
];

function nameOf(metric: string): string {
  return metric.replace(/_(c|pa|pct|mm_s|h|kw|kwh)$/, '').replace(/_/g, ' ');
}

/**
 * The alarm definitions, as data, from the catalogue: for every gauge with thresholds a
 * warning-level (`hi`/`lo`) and a critical-level (`hihi`/`lolo`) alarm, with a deadband of a
 * fifth of the distance between the two limits and on/off delays of one report interval (the
 * condition must be seen in two samples in a row); the machine `fault` state of every asset type
 * that has one; the named discrete alarms; a critical event; and presence (`offline` for two
 * minutes).
 */
export function alarmDefinitions(options: DefinitionOptions = {}): AlarmDefinition[] {
  const scale = options.delayScale ?? 1;
  const out: AlarmDefinition[] = [];
  for (const asset of options.assetTypes ?? ASSET_TYPES) {
    const interval = Math.round(asset.reportIntervalS * 1000 * scale);
    for (const [metric, spec] of Object.entries(asset.metrics)) {
      const t = spec.thresholds;
      if (!t) continue;
      const direction = t.direction ?? 'above';
      const over = OVERRIDES[`${asset.id}.${metric}`];
      const deadband = round(Math.abs(t.critical - t.warning) / 5);
      const suppressedWhen = suppression(asset, metric, direction);
      for (const level of ['warning', 'critical'] as const) {
        const suffix = (direction === 'above' ? 'hi' : 'lo').repeat(level === 'critical' ? 2 : 1);
        const limit = t[level];
        out.push({
          id: `${asset.id}.${metric}.${suffix}`,
          assetType: asset.id,
          tag: `${metric}.${suffix}`,
          name: `${cap(nameOf(metric))} ${direction === 'above' ? 'high' : 'low'}${level === 'critical' ? '-' + (direction === 'above' ? 'high' : 'low') : ''} (${direction === 'above' ? '>' : '<'} ${limit})`,
          source: { kind: 'limit', metric, direction, limit, deadband },
          priority: over?.priority?.[level] ?? PRIORITY_DEFAULT[level],
          onDelayMs: interval,
          offDelayMs: interval,
          latched: over?.latched ?? false,
          ...(suppressedWhen ? { suppressedWhen } : {}),
          consequence:
            over?.consequence ??
            `${spec.description} ${direction === 'above' ? 'above' : 'below'} its ${level} limit (${limit}).`,
          response:
            over?.response ??
            (level === 'critical'
              ? 'Act now: check the device on site and bring it back within its limits.'
              : 'Watch the trend; plan a check before it reaches the critical limit.'),
        });
      }
    }
    const state = asset.metrics['state'];
    if (state?.kind === 'enum' && state.values?.some((v) => v === 'fault' || v === 'faulted')) {
      out.push({
        id: `${asset.id}.state.fault`,
        assetType: asset.id,
        tag: 'state.fault',
        name: 'In fault',
        source: {
          kind: 'discrete',
          metric: 'state',
          values: state.values.filter((v) => v === 'fault' || v === 'faulted'),
        },
        priority: 'high',
        onDelayMs: interval,
        offDelayMs: interval,
        latched: false,
        consequence: `The ${asset.name.toLowerCase()} stopped in a fault: no production until it is cleared.`,
        response: 'Read the fault code on the device view; send a technician; reset when fixed.',
      });
    }
    for (const d of DISCRETE.filter((x) => x.assetType === asset.id)) {
      out.push({
        id: `${asset.id}.${d.metric}`,
        assetType: asset.id,
        tag: d.metric,
        name: d.name,
        source: { kind: 'discrete', metric: d.metric, values: d.values },
        priority: d.priority,
        onDelayMs: interval,
        offDelayMs: interval,
        latched: d.latched,
        consequence: d.consequence,
        response: d.response,
      });
    }
    out.push({
      id: `${asset.id}.event.critical`,
      assetType: asset.id,
      tag: 'event.critical',
      name: 'Critical event reported',
      source: { kind: 'event', severity: 'critical' },
      priority: 'high',
      onDelayMs: 0,
      offDelayMs: 0,
      latched: false,
      consequence: 'The device reported a critical event (see its message).',
      response: 'Read the event on the device view and act on it; acknowledge when handled.',
    });
    out.push({
      id: `${asset.id}.offline`,
      assetType: asset.id,
      tag: 'offline',
      name: 'Offline',
      source: { kind: 'offline' },
      priority: 'medium',
      onDelayMs: Math.round(120_000 * scale),
      offDelayMs: 0,
      latched: false,
      consequence: 'No data from the device: its other alarms cannot be raised while it is away.',
      response: 'Check its power and network; it returns to normal by itself when it reconnects.',
    });
  }
  return out;
}

/** Definitions by asset type, for the evaluator. */
export function definitionsByAssetType(
  definitions: readonly AlarmDefinition[],
): Map<string, AlarmDefinition[]> {
  const map = new Map<string, AlarmDefinition[]>();
  for (const d of definitions) {
    const list = map.get(d.assetType) ?? [];
    list.push(d);
    map.set(d.assetType, list);
  }
  return map;
}

/** An alarm is one definition on one device: `{deviceId}.{tag}`. */
export function alarmId(deviceId: string, definition: AlarmDefinition): string {
  return `${deviceId}.${definition.tag}`;
}

export const ALARM_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}\.[a-z0-9_.]{1,96}$/;

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
