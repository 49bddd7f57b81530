import type { AssetTypeSpec, FieldValue } from '@parkpulse/telemetry';
import type { ModelContext, ModelOutput } from './model.js';

/** A fixed virtual start for tests and examples: Tuesday 2025-06-03 00:00 local (UTC+8). */
export const START = Date.UTC(2025, 5, 2, 16, 0, 0);

/** A model context for an asset type in its first park. */
export const ctxOf = (
  asset: AssetTypeSpec,
  deviceId = `${asset.id}-01`,
  seed = 42,
): ModelContext => ({
  deviceId,
  asset,
  park: asset.parks[0] ?? 'science-city',
  site: 'site-a',
  seed,
});

/** Checks one output against the catalogue; pushes what is wrong. */
export function checkOutput(
  asset: AssetTypeSpec,
  out: ModelOutput,
  previous: Record<string, number>,
  where: string,
  violations: string[],
): void {
  const names = Object.keys(asset.metrics);
  for (const name of Object.keys(out.metrics))
    if (!names.includes(name)) violations.push(`${where}: unknown metric ${name}`);
  for (const [name, spec] of Object.entries(asset.metrics)) {
    const v: FieldValue | undefined = out.metrics[name];
    const at = `${where} ${name}=${String(v)}`;
    switch (spec.kind) {
      case 'gauge':
      case 'counter':
        if (typeof v !== 'number' || !Number.isFinite(v)) violations.push(`${at}: not a number`);
        else {
          if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max))
            violations.push(`${at}: out of [${spec.min}, ${spec.max}]`);
          if (spec.kind === 'counter') {
            if (v < (previous[name] ?? -Infinity)) violations.push(`${at}: counter went down`);
            previous[name] = v;
          }
        }
        break;
      case 'boolean':
        if (typeof v !== 'boolean') violations.push(`${at}: not a boolean`);
        break;
      case 'enum':
        if (typeof v !== 'string' || !spec.values?.includes(v))
          violations.push(`${at}: not in enum`);
        break;
    }
  }
  for (const e of out.events)
    if (!['info', 'warning', 'critical'].includes(e.severity) || !/^[A-Z][A-Z0-9_]+$/.test(e.code))
      violations.push(`${where}: bad event ${JSON.stringify(e)}`);
}
