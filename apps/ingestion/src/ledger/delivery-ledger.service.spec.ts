import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { telemetryLines } from '@parkpulse/influx';
import {
  parseTopic,
  type DeliveryLedger,
  type ParsedTopic,
  type Sample,
} from '@parkpulse/telemetry';
import type { IngestionConfig } from '../config/ingestion-config.js';
import type { SpooledGroup } from '../spool/spool-record.js';
import type { BatchWriter } from '../storage/batch-writer.service.js';
import type { SpoolReplayer } from '../storage/spool-replayer.service.js';
import { DeliveryLedgerService } from './delivery-ledger.service.js';

const TOPIC = 'parks/science-city/ledger-unit/cnc_machine/cnc-1/telemetry';
const BASE = 1_800_000_000_000;
/** The fleet of the restart tests: device time moves with seq. */
const sample = (seq: number): Sample => ({ seq, ts: BASE + seq, fields: { spindle_rpm: seq } });
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

function topicOf(text: string): ParsedTopic {
  const parsed = parseTopic(text);
  if (!parsed.ok) throw new Error(parsed.error.detail);
  return parsed.value;
}

/** One ingestion process's ledger, with the batch writer and spool replayer reduced to hooks. */
class Process {
  readonly service: DeliveryLedgerService;
  private readonly beforeAcks: (() => void)[] = [];
  private replayed: (groups: readonly SpooledGroup[]) => void = () => undefined;

  constructor(dir: string) {
    const writer = {
      beforeAcks: (hook: () => void) => this.beforeAcks.push(hook),
      submit: () => undefined,
    } as unknown as BatchWriter;
    const replayer = {
      onReplayed: (listener: (groups: readonly SpooledGroup[]) => void) => {
        this.replayed = listener;
        return () => undefined;
      },
    } as unknown as SpoolReplayer;
    const config = { spool: { dir }, statsIntervalMs: 0 } as unknown as IngestionConfig;
    this.service = new DeliveryLedgerService(config, writer, replayer);
    this.service.onModuleInit();
  }

  /** Messages arriving (one sample each): the seqs refused for their clock. */
  deliver(topic: ParsedTopic, seqs: readonly number[]): number[] {
    return seqs.flatMap((seq) =>
      this.service.admit(topic, [sample(seq)]).regressed.map((s) => s.seq!),
    );
  }

  /** One write stored (InfluxDB or the spool): recorded, journaled, then acknowledged. */
  store(topic: ParsedTopic, seqs: readonly number[]): void {
    for (const seq of seqs) this.service.stored(topic, [sample(seq)], BASE + 60_000);
    for (const hook of this.beforeAcks) hook();
  }

  /** The spool replayer got these points into InfluxDB. */
  replay(topic: ParsedTopic, seqs: readonly number[]): void {
    const lines = telemetryLines({ topic, samples: seqs.map(sample), dropped: [] });
    this.replayed([{ topic: TOPIC, lines }]);
    this.service.sync();
  }

  /** SIGKILL: nothing more is written (no shutdown compaction). */
  kill(): void {
    const internals = this.service as unknown as {
      timer?: NodeJS.Timeout;
      compactTimer?: NodeJS.Timeout;
      syncScheduled?: NodeJS.Immediate;
      persisting: boolean;
      store: { close(): void };
    };
    clearInterval(internals.timer);
    clearInterval(internals.compactTimer);
    if (internals.syncScheduled) clearImmediate(internals.syncScheduled);
    internals.persisting = false;
    internals.store.close();
  }
}

describe('the delivery ledger service across a kill on a full spool', () => {
  let dir: string;
  beforeEach(() => {
    Logger.overrideLogger(false);
    dir = mkdtempSync(join(tmpdir(), 'ledger-service-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // After a restart, only stored device time may count as covered, with the newest stored seq
  // beside it: taking the time of samples admitted but never stored (their ack was held by the
  // full spool) refused their redelivery as clock regressions.
  it('refuses nothing of the redelivered backlog when device time moves with seq', () => {
    const topic = topicOf(TOPIC);
    const first = new Process(dir);
    // Stored normally, then InfluxDB down: the spool takes writes until it is full.
    expect(first.deliver(topic, range(1, 200))).toEqual([]);
    first.store(topic, range(1, 100));
    first.service.flush(); // a snapshot while InfluxDB is up
    first.store(topic, range(101, 150)); // spooled, journaled
    // Admitted, then the spool is full: 151…200 wait unacknowledged (their time is covered by
    // the admission, not by storage) while snapshots go on being written.
    expect(first.deliver(topic, range(201, 260))).toEqual([]);
    first.service.flush();
    first.store(topic, range(151, 160)); // room again for a moment: into the journal only
    first.kill();

    const second = new Process(dir);
    // The broker's backlog again (from the last acknowledged batch: some stored already),
    // interleaved with live traffic, while the spool is replayed once InfluxDB is back.
    expect(second.deliver(topic, range(141, 180))).toEqual([]);
    second.replay(topic, range(101, 160));
    expect(second.deliver(topic, [...range(261, 270), ...range(181, 260)])).toEqual([]);
    second.store(topic, range(161, 270));
    second.service.flush();
    second.kill();

    // And once more from what the second process left: nothing refused, missing or reset.
    const third = new Process(dir);
    expect(third.deliver(topic, range(250, 300))).toEqual([]);
    third.store(topic, range(271, 300));
    const ledger = (third.service as unknown as { ledger: DeliveryLedger }).ledger;
    const [state] = ledger.snapshot().devices;
    expect(ledger.size).toBe(1);
    expect(state).toMatchObject({
      highest: 300,
      missing: [],
      clockRegressions: 0,
      resets: 0,
    });
    third.kill();
  });
});
