import { fail, ok, type Result } from '../../errors.js';
import type { RawSample } from '../../model.js';
import { checkWindow, parseTimestamp } from '../../timestamp.js';
import type { DecodeContext, PayloadDecoder } from '../decoder.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JSON telemetry payload of contract v1: one sample
 * `{"ts", "seq", "metrics": {...}}` or a batch `{"samples": [sample, ...]}`.
 */
export const jsonV1Decoder: PayloadDecoder = {
  name: 'json-v1',
  decode(payload: Buffer, ctx: DecodeContext): Result<RawSample[]> {
    let text: string;
    try {
      text = utf8.decode(payload);
    } catch {
      return fail('payload_not_utf8', 'payload is not valid UTF-8');
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      return fail('payload_not_json', (error as Error).message);
    }
    if (!isObject(doc)) return fail('payload_invalid', 'payload must be a JSON object');

    if ('samples' in doc) {
      const samples = doc['samples'];
      if (!Array.isArray(samples) || samples.length === 0) {
        return fail('payload_invalid', '"samples" must be a non-empty array');
      }
      if (samples.length > ctx.limits.maxBatchSamples) {
        return fail(
          'batch_too_large',
          `${samples.length} samples, at most ${ctx.limits.maxBatchSamples} per message`,
        );
      }
      const out: RawSample[] = [];
      for (let i = 0; i < samples.length; i++) {
        const sample = readSample(samples[i], ctx, `samples[${i}]`);
        if (!sample.ok) return sample;
        out.push(sample.value);
      }
      return ok(out);
    }
    const sample = readSample(doc, ctx, 'payload');
    return sample.ok ? ok([sample.value]) : sample;
  },
};

function readSample(value: unknown, ctx: DecodeContext, where: string): Result<RawSample> {
  if (!isObject(value)) return fail('payload_invalid', `${where} must be an object`);
  const metrics = value['metrics'];
  if (!isObject(metrics)) return fail('payload_invalid', `${where}.metrics must be an object`);

  let ts = ctx.receivedAt;
  const tsFromDevice = value['ts'] !== undefined && value['ts'] !== null;
  if (tsFromDevice) {
    const parsed = parseTimestamp(value['ts']);
    if (!parsed.ok) return parsed;
    const inWindow = checkWindow(
      parsed.value,
      ctx.receivedAt,
      ctx.limits.maxPastMs,
      ctx.limits.maxFutureMs,
    );
    if (!inWindow.ok) return inWindow;
    ts = inWindow.value;
  }

  const seq = value['seq'];
  if (seq !== undefined && seq !== null && !(Number.isSafeInteger(seq) && (seq as number) >= 0)) {
    return fail('payload_invalid', `${where}.seq must be a non-negative integer`);
  }
  return ok(
    seq === undefined || seq === null
      ? { ts, tsFromDevice, metrics }
      : { ts, tsFromDevice, seq: seq as number, metrics },
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
