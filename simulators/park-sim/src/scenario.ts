import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { getAssetType, PARK_IDS } from '@parkpulse/telemetry';
import { z } from 'zod';

/** Where the scenario files live (`simulators/scenarios/*.json`). */
export const SCENARIO_DIR = join(import.meta.dirname, '..', '..', 'scenarios');

const duration = z
  .union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/)])
  .transform((v) => parseDuration(v));

const fault = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('broker-restart'), at: duration }),
  z.object({
    kind: z.literal('reconnect-storm'),
    at: duration,
    share: z.number().gt(0).max(1).default(1),
  }),
  z.object({
    kind: z.literal('flap'),
    at: duration,
    device: z.string().optional(),
    times: z.number().int().positive().default(5),
    every: duration.default(2000),
  }),
  /** An ultra-low freezer's door left ajar: the cabinet warms past its alarm limits, then recovers. */
  z.object({
    kind: z.literal('door-ajar'),
    at: duration,
    /** Again every so long, each time another freezer (until the run ends). */
    every: duration.optional(),
    /** How long the door stays open (scenario time). */
    lasting: duration.default(180_000),
  }),
  z.object({
    kind: z.literal('malformed-burst'),
    at: duration,
    count: z.number().int().positive().default(100),
  }),
]);

const schema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/),
  description: z.string().default(''),
  seed: z.number().int().nonnegative().default(1),
  /** Report interval = each asset's catalogue interval × this factor. */
  intervalScale: z.number().positive().default(1),
  fleet: z
    .array(
      z.object({
        park: z.enum(PARK_IDS),
        site: z.string().regex(/^[a-z0-9-]{1,32}$/),
        devices: z.record(z.string(), z.number().int().nonnegative()),
      }),
    )
    .min(1),
  /** Share of devices whose clock is off, and by how much (ms, ±). */
  clockSkew: z
    .object({ share: z.number().min(0).max(1), maxMs: z.number().int().nonnegative() })
    .optional(),
  /** Share of telemetry messages replaced by a malformed one (to exercise dead letters). */
  malformedShare: z.number().min(0).max(1).default(0),
  faults: z.array(fault).default([]),
  /**
   * Sparkplug B edge nodes besides the JSON fleet: per entry, `count` production lines of a
   * site, each a PLC gateway (edge node) carrying `machines` as Sparkplug devices. Off unless
   * `enabled` (a pipeline without the Sparkplug host dead-letters spBv1.0 topics).
   */
  sparkplug: z
    .object({
      enabled: z.boolean().default(false),
      group: z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,64}$/)
        .default('science-city'),
      /** BIRTH/DATA QoS: 0 as the specification says, 1 for ParkPulse's "PUBACK means stored". */
      qos: z.union([z.literal(0), z.literal(1)]).default(0),
      lines: z
        .array(
          z.object({
            site: z.string().regex(/^[a-z0-9-]{1,32}$/),
            count: z.number().int().positive(),
            machines: z.record(z.string(), z.number().int().nonnegative()),
          }),
        )
        .min(1),
    })
    .optional(),
  objectives: z
    .object({
      /** Stored == acknowledged (needs --influx). */
      zeroLoss: z.boolean().default(true),
      /** p99 publish → PUBACK latency, ms. */
      p99AckMs: z.number().positive().optional(),
      /** At least this share of sent messages acknowledged. */
      minAckedShare: z.number().min(0).max(1).default(1),
    })
    .default({ zeroLoss: true, minAckedShare: 1 }),
});

export type Scenario = z.infer<typeof schema>;
export type Fault = Scenario['faults'][number];

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** Validates a scenario object: schema, known asset types, asset types present in their park. */
export function parseScenario(doc: unknown, source = 'scenario'): Scenario {
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    throw new ScenarioError(
      `${source}:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  }
  const problems: string[] = [];
  for (const group of parsed.data.fleet) {
    for (const assetType of Object.keys(group.devices)) {
      const asset = getAssetType(assetType);
      if (!asset)
        problems.push(`fleet ${group.park}/${group.site}: unknown asset type "${assetType}"`);
      else if (!asset.parks.includes(group.park))
        problems.push(
          `fleet ${group.park}/${group.site}: "${assetType}" does not exist in ${group.park}`,
        );
    }
  }
  for (const line of parsed.data.sparkplug?.lines ?? []) {
    for (const assetType of Object.keys(line.machines)) {
      const asset = getAssetType(assetType);
      if (!asset?.parks.includes('science-city'))
        problems.push(
          `sparkplug lines ${line.site}: "${assetType}" is not a Science City asset type`,
        );
    }
  }
  if (problems.length > 0)
    throw new ScenarioError(`${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return parsed.data;
}

/** Loads a scenario by name (from simulators/scenarios) or by path. */
export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  const path = nameOrPath.endsWith('.json') ? nameOrPath : join(SCENARIO_DIR, `${nameOrPath}.json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ScenarioError(`no scenario "${nameOrPath}" (looked for ${path})`);
  }
  return parseScenario(JSON.parse(text), basename(path));
}

/** `500ms`, `30s`, `5m`, `2h` or a number of ms. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!m) throw new ScenarioError(`"${value}" is not a duration (500ms, 30s, 5m, 2h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}
