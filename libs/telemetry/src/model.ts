import type { FieldDropReason } from './errors.js';
import type { EventSeverity } from './limits.js';
import type { ParsedTopic } from './topic.js';

export type FieldValue = number | boolean | string;

/** A sample as a decoder read it, before the catalogue had its say. */
export interface RawSample {
  /** Epoch ms; the receive time when the device sent none. */
  readonly ts: number;
  /** True when `ts` came from the device (so a redelivery lands on the same point). */
  readonly tsFromDevice: boolean;
  readonly seq?: number;
  /** Metric name → value as received (already known to be a number, boolean, string or null). */
  readonly metrics: Readonly<Record<string, unknown>>;
}

/** A field the catalogue refused; the rest of the sample is kept. */
export interface FieldDrop {
  readonly metric: string;
  readonly reason: FieldDropReason;
  readonly detail: string;
}

export interface Sample {
  readonly ts: number;
  readonly seq?: number;
  /** Metric name → value, typed per the contract: numbers are floats, booleans, strings. */
  readonly fields: Readonly<Record<string, FieldValue>>;
}

export interface TelemetryMessage {
  readonly topic: ParsedTopic;
  readonly samples: readonly Sample[];
  readonly dropped: readonly FieldDrop[];
}

export interface StatusMessage {
  readonly topic: ParsedTopic;
  readonly online: boolean;
  readonly ts: number;
}

export interface EventMessage {
  readonly topic: ParsedTopic;
  readonly ts: number;
  readonly code: string;
  readonly severity: EventSeverity;
  readonly message: string;
}
