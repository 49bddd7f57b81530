/** Limits of the telemetry contract (v1). Defaults are the documented ones; all are configurable. */
export interface ContractLimits {
  /** Largest payload accepted, in bytes. */
  readonly maxPayloadBytes: number;
  /** Most samples in one batch payload (`{"samples": [...]}`). */
  readonly maxBatchSamples: number;
  /** Longest string metric value, in characters. */
  readonly maxStringLength: number;
  /** How far in the past a timestamp may be, in ms. */
  readonly maxPastMs: number;
  /** How far in the future a timestamp may be, in ms. */
  readonly maxFutureMs: number;
}

export const DEFAULT_LIMITS: ContractLimits = {
  maxPayloadBytes: 256 * 1024,
  maxBatchSamples: 1000,
  maxStringLength: 256,
  maxPastMs: 7 * 24 * 3600 * 1000,
  maxFutureMs: 5 * 60 * 1000,
};

export const METRIC_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
/** Names the contract uses itself and that therefore cannot be metrics. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['ts', 'seq', 'time']);
export const EVENT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type EventSeverity = (typeof EVENT_SEVERITIES)[number];
export const EVENT_CODE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_EVENT_MESSAGE_LENGTH = 1024;
