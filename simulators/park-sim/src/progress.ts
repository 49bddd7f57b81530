import { SingleBar, Presets } from 'cli-progress';
import type { RunReport } from './report.js';

/** A progress bar on a terminal, a plain line every few seconds otherwise (CI logs, pipes). */
export class Progress {
  private readonly bar: SingleBar | undefined;
  private lastLine = 0;

  constructor(
    private readonly label: string,
    private readonly tty = process.stdout.isTTY === true,
  ) {
    if (tty) {
      this.bar = new SingleBar(
        {
          format: `${label} [{bar}] {percentage}% | {elapsed}s | sent {sent} acked {acked} failed {failed} | {rate} msg/s | p99 {p99} ms`,
          hideCursor: true,
        },
        Presets.shades_classic,
      );
      this.bar.start(100, 0, { sent: 0, acked: 0, failed: 0, rate: 0, p99: 0, elapsed: 0 });
    }
  }

  update(report: RunReport, fraction: number): void {
    const values = {
      sent: report.sent,
      acked: report.acked,
      failed: report.failed,
      rate: report.msgPerS,
      p99: report.latencyMs.p99,
      elapsed: Math.round(report.elapsedS),
    };
    if (this.bar) {
      this.bar.update(Math.round(fraction * 100), values);
      return;
    }
    if (Date.now() - this.lastLine < 5000) return;
    this.lastLine = Date.now();
    process.stdout.write(
      `${this.label} ${Math.round(fraction * 100)}% t=${values.elapsed}s sent=${values.sent} acked=${values.acked} failed=${values.failed} ${values.rate} msg/s p99=${values.p99} ms\n`,
    );
  }

  stop(): void {
    this.bar?.stop();
  }
}
