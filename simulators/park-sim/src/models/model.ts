import type { AssetTypeSpec, FieldValue, ParkId } from '@parkpulse/telemetry';

export interface ModelContext {
  readonly deviceId: string;
  readonly asset: AssetTypeSpec;
  readonly park: ParkId;
  readonly site: string;
  readonly seed: number;
}

export type EventSeverity = 'info' | 'warning' | 'critical';

export interface ModelEvent {
  readonly code: string;
  readonly severity: EventSeverity;
  readonly message: string;
}

export interface ModelOutput {
  readonly metrics: Record<string, FieldValue>;
  readonly events: readonly ModelEvent[];
}

/** A device's physics. step() is called with a non-decreasing virtual time (epoch ms) and returns the reading at that time plus events that happened since the previous step. */
export interface DeviceModel {
  step(tMs: number): ModelOutput;
  /** machine state when the asset has one */
  readonly state?: string;
  /**
   * Something goes wrong on the asset at `tMs` for `durationMs` (a scenario's incident); false
   * when this asset has no such incident.
   */
  incident?(kind: Incident, tMs: number, durationMs: number): boolean;
}

/** Incidents a scenario can cause (see the scenario's `door-ajar` fault). */
export type Incident = 'door-ajar';

export type ModelFactory = (ctx: ModelContext, startMs: number) => DeviceModel;
