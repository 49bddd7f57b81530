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
}

export type ModelFactory = (ctx: ModelContext, startMs: number) => DeviceModel;
