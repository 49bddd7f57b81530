/**
 * Why a message (or one field of it) was refused. The codes are stable: they are stored as the
 * `reason` tag of `ingest_reject`, counted in metrics and listed in the telemetry contract.
 */
export const REJECT_REASONS = [
  'topic_invalid',
  'unknown_park',
  'unknown_asset_type',
  'asset_type_not_in_park',
  'unknown_channel',
  'payload_too_large',
  'payload_not_utf8',
  'payload_not_json',
  'payload_invalid',
  'batch_too_large',
  'timestamp_invalid',
  'timestamp_out_of_window',
  'metric_name_invalid',
  'no_valid_fields',
  'status_invalid',
  'event_invalid',
  'cmd_result_invalid',
  'storage_rejected',
  'clock_regression',
  // Sparkplug B (docs/sparkplug.md)
  'payload_not_protobuf',
  'sparkplug_topic_invalid',
  'sparkplug_unmapped',
  'sparkplug_no_birth',
  'cardinality_exceeded',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Why a single field was dropped from an otherwise valid sample. */
export const FIELD_DROP_REASONS = [
  'out_of_range',
  'wrong_type',
  'not_in_enum',
  'string_too_long',
  'not_finite',
  'control_characters',
  // Sparkplug B and the cardinality guard (docs/sparkplug.md)
  'unsupported_datatype',
  'unknown_datatype',
  'unknown_alias',
  'alias_collision',
  'metric_name_invalid',
  'metric_unmapped',
  'cardinality_exceeded',
] as const;
export type FieldDropReason = (typeof FIELD_DROP_REASONS)[number];

/** A contract violation: the message is a dead letter. Returned, never thrown on the hot path. */
export class ContractError extends Error {
  override readonly name = 'ContractError';
  constructor(
    readonly reason: RejectReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ContractError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(reason: RejectReason, detail: string): Result<T> {
  return { ok: false, error: new ContractError(reason, detail) };
}
