import type { Result } from '../errors.js';
import type { ContractLimits } from '../limits.js';
import type { RawSample } from '../model.js';

export interface DecodeContext {
  /** Receive time, epoch ms: the timestamp of samples that carry none, and "now" for the window. */
  readonly receivedAt: number;
  readonly limits: ContractLimits;
}

/**
 * A payload format. Decoders turn bytes into raw samples and check the envelope (JSON shape,
 * timestamps, batch size); the catalogue checks of each value happen afterwards, the same for
 * every format.
 */
export interface PayloadDecoder {
  readonly name: string;
  decode(payload: Buffer, ctx: DecodeContext): Result<RawSample[]>;
}
