#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { scienceCityFleet } from './fleet.js';
import { runFleet, type RunReport } from './run.js';

const HELP = `park-sim — drive ParkPulse with a simulated park fleet

Usage:
  park-sim run [options]

Options:
  --url <mqtt-url>        broker URL                          (default mqtt://127.0.0.1:1883)
  --scenario <name>       fleet: science-city                 (default science-city)
  --devices <n>           number of devices                   (default 60)
  --interval-ms <ms>      ms between two messages of a device; 0 = flat-out   (default 1000)
  --messages <n>          stop each device after n messages
  --duration <s>          stop after s seconds (default: run until Ctrl-C)
  --seed <n>              signal seed (same seed, same signals) (default 1)
  --username/--password   MQTT credentials
  --report <file.json>    write the final report as JSON
  -h, --help              this text

Examples:
  park-sim run --devices 60                                   # live Science City fleet, 1 msg/s per device
  park-sim run --devices 50 --interval-ms 0 --messages 200    # 10,000 messages flat-out, then a report
  park-sim run --url mqtt://broker:1883 --duration 600 --report run.json
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      scenario: { type: 'string', default: 'science-city' },
      devices: { type: 'string', default: '60' },
      'interval-ms': { type: 'string', default: '1000' },
      messages: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string', default: '1' },
      username: { type: 'string' },
      password: { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals[0] !== 'run') {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  if (values.scenario !== 'science-city')
    throw new Error(`unknown scenario "${values.scenario}" (available: science-city)`);
  const devices = scienceCityFleet(positiveInt(values.devices, '--devices'));
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const tty = process.stdout.isTTY;
  process.stdout.write(`park-sim: ${devices.length} Science City devices → ${values.url}\n`);
  const report = await runFleet({
    url: values.url,
    devices,
    intervalMs: nonNegativeInt(values['interval-ms'], '--interval-ms'),
    ...(values.messages ? { messagesPerDevice: positiveInt(values.messages, '--messages') } : {}),
    ...(values.duration ? { durationMs: positiveInt(values.duration, '--duration') * 1000 } : {}),
    seed: nonNegativeInt(values.seed, '--seed'),
    ...(values.username ? { username: values.username, password: values.password ?? '' } : {}),
    signal: controller.signal,
    onProgress: (r) => process.stdout.write(tty ? `\r${line(r)}   ` : `${line(r)}\n`),
  });
  if (tty) process.stdout.write('\n');
  const { perDevice: _perDevice, ...summary } = report;
  console.table(summary);
  if (values.report) await writeFile(values.report, `${JSON.stringify(report, null, 2)}\n`);
  return report.failed === 0 && report.acked === report.sent ? 0 : 1;
}

function line(r: RunReport): string {
  return `t=${r.elapsedS.toFixed(0)}s sent=${r.sent} acked=${r.acked} failed=${r.failed} ${r.msgPerS} msg/s p99=${r.latencyMs.p99} ms`;
}

function positiveInt(text: string | undefined, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

function nonNegativeInt(text: string | undefined, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`park-sim: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
