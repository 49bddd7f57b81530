import type { Result } from '../errors.js';
import type { ContractLimits } from '../limits.js';
import type { FieldDrop, RawSample } from '../model.js';

export interface DecodeContext {
  /** Receive time, epoch ms: the timestamp of samples that carry none, and "now" for the window. */
  readonly receivedAt: number;
  readonly limits: ContractLimits;
  /**
   * Where a decoder that refuses single fields itself (a value its format cannot map, e.g. a
   * Sparkplug DataSet) records them; the rest of the sample is kept. JSON never does.
   */
  readonly dropped?: FieldDrop[];
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
