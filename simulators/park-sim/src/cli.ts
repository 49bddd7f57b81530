#!/usr/bin/env node
import { execSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { scienceCityFleet } from './fleet.js';
import { FleetGenerator, scenarioFleet, wirePayload } from './generator.js';
import { backfill } from './modes/backfill.js';
import { ContractDevice, DEVICE_FAULTS, type DeviceFault } from './modes/device.js';
import { runLoad } from './modes/load.js';
import { record } from './modes/record.js';
import { replay } from './modes/replay.js';
import { runScenario } from './modes/run.js';
import { Progress } from './progress.js';
import { summaryRows, type RunReport } from './report.js';
import { loadScenario, parseDuration, ScenarioError } from './scenario.js';
import { countStored, judge, type Verdict } from './verdict.js';

const HELP = `park-sim — simulated park fleets for ParkPulse: live runs, backfill, load, record and replay

Usage: park-sim <command> [options]

Commands:
  run      a scenario's fleet live (simulators/scenarios/*.json), with its faults and a verdict
  backfill a scenario's recent history at once, uploaded as devices upload their offline buffer
  load     N devices × a rate, or flat-out, bounded by a count or a time
  record   capture parks/# from a broker into a gzip NDJSON file
  replay   play a recording again: N× speed, timestamps shifted to now, cloned M×, looped
  generate print a scenario's first messages (topic and payload) without a broker
  conform  check one device against the telemetry contract, clause by clause (for firmware engineers)
  device   one simulated device that keeps the contract, or breaks one clause on purpose (--fault)

Common options:
  --url <mqtt-url>          broker                                   (default mqtt://127.0.0.1:1883)
  --group-key <base64>      enrolment group key: each device logs in as itself with its
                            derived key (default: $PARKPULSE_GROUP_KEY)
  --username, --password    one MQTT login for every device; for record: an observer account
  --report <file.json>      write the final report (and verdict) as JSON
  -h, --help                this text

run:      --scenario <name|file.json> (default science-city-demo)  --duration <30s|5m|…> (default 60s)
          --speed <x> (virtual seconds per second, default 1)  --seed <n> (overrides the scenario's)
          --influx <url> [--database telemetry]  check zero loss against InfluxDB after the run
          --broker-restart-cmd "<shell command>"  how to restart the broker for the broker-restart fault
backfill: --scenario <name|file.json>  --duration <30m|2h|…> (> 0, at most 168h: the contract's 7 days)
          --end <epoch ms | ISO time> (default now, at most 5 min ahead)  --seed <n>
          --influx <url> [--database telemetry]  check zero loss against InfluxDB after the upload
load:     --devices <n> (default 100)  --rate <msg/s per device, 0 = flat-out> (default 1)
          --messages <n per device> | --duration <30s|…>  --window <in-flight per device when flat-out> (default 10)
record:   --out <file.ndjson.gz>  [--filter parks/#]  [--duration <…>] [--messages <n>]
replay:   --in <file.ndjson.gz>  [--speed 10] [--clones 3] [--loops 2] [--shift-ms <ms>]
generate: --scenario <name>  --count <n> (default 20)  --start <epoch ms> (default 1764000000000)  --seed <n>
conform:  --device <id>  --watch <30s|2m|…> (default 60s)  observer login: --username (default
          parkpulse-observer) --password (default $PARKPULSE_OBSERVER_SECRET)
          active check (kicks the device to see its will and reconnects): --device-key <key> or
          --group-key <base64>  [--kicks 3]  [--reconnect-wait 35s]
          a table on the terminal (colours on a TTY; NO_COLOR=1 for none), --report <file.json> for JSON
device:   --device <id>  --asset <type> (default cnc_machine)  --park <id> (default science-city)
          --site <id> (default conform-lab)  --duration <…> (default 60s)  --interval-ms <ms>
          --fault <${DEVICE_FAULTS.join('|')}>[,…]  login: --group-key

Examples:
  park-sim run --scenario science-city-demo --duration 10m                       # the demo, live
  park-sim run --scenario four-areas --speed 60 --duration 5m --influx http://127.0.0.1:8086
                                                                                 # 5 virtual hours, checked in InfluxDB
  park-sim backfill --scenario science-city-demo --duration 2h --influx http://127.0.0.1:8086
                                                                                 # the last 2 hours, in seconds
  park-sim load --devices 10000 --rate 0.5 --duration 2m --report load.json      # 10,000 devices, 5,000 msg/s
  park-sim load --devices 200 --rate 0 --messages 500                            # flat-out, 100,000 messages
  park-sim record --out park.ndjson.gz --duration 10m
  park-sim replay --in park.ndjson.gz --speed 10 --clones 5 --loops 2
  park-sim generate --scenario science-city-demo --count 5 | head
  park-sim conform --device cnc-0007 --watch 2m                                  # watch only (observer account)
  park-sim conform --device cnc-0007 --watch 30s --device-key "$KEY" --report cnc-0007.json
                                                                                 # and kick it 3 times: will, back-off
  park-sim device --device lab-1 --fault seconds-ts --duration 5m &             # a device that gets ts wrong

Exit code: 0 when the run met its objectives (every message acknowledged; for run, the scenario's
objectives; for conform, no clause failed), 1 when not, 2 on a usage error.
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      'group-key': { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      report: { type: 'string' },
      scenario: { type: 'string', default: 'science-city-demo' },
      duration: { type: 'string' },
      speed: { type: 'string', default: '1' },
      seed: { type: 'string' },
      influx: { type: 'string' },
      database: { type: 'string', default: 'telemetry' },
      'broker-restart-cmd': { type: 'string' },
      devices: { type: 'string', default: '100' },
      rate: { type: 'string', default: '1' },
      messages: { type: 'string' },
      window: { type: 'string', default: '10' },
      out: { type: 'string' },
      in: { type: 'string' },
      filter: { type: 'string', default: 'parks/#' },
      clones: { type: 'string', default: '1' },
      loops: { type: 'string', default: '1' },
      'shift-ms': { type: 'string' },
      count: { type: 'string', default: '20' },
      start: { type: 'string', default: '1764000000000' },
      end: { type: 'string' },
      device: { type: 'string' },
      watch: { type: 'string', default: '60s' },
      'device-key': { type: 'string' },
      kicks: { type: 'string', default: '3' },
      'reconnect-wait': { type: 'string', default: '35s' },
      asset: { type: 'string', default: 'cnc_machine' },
      park: { type: 'string', default: 'science-city' },
      site: { type: 'string', default: 'conform-lab' },
      fault: { type: 'string' },
      'interval-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const groupKey = values['group-key'] ?? process.env['PARKPULSE_GROUP_KEY'];
  const credentials = {
    ...(groupKey ? { groupKey } : {}),
    ...(values.username ? { username: values.username, password: values.password ?? '' } : {}),
  };
  const signal = controller.signal;

  switch (command) {
    case 'run': {
      const scenario = await loadScenario(values.scenario);
      if (values.seed !== undefined) scenario.seed = int(values.seed, '--seed', 0);
      const durationMs = parseDuration(values.duration ?? '60s');
      const speed = num(values.speed, '--speed');
      const cmd = values['broker-restart-cmd'];
      if (!(speed > 0)) throw new UsageError('--speed must be > 0');
      const startMs = Math.round(Date.now() - durationMs * Math.max(0, speed - 1));
      const window = { fromMs: startMs, toMs: startMs + durationMs * speed };
      const fleet = scenarioFleet(scenario);
      // Points of earlier runs in the same window would make a lossy run look complete.
      const storage = values.influx
        ? { influxUrl: values.influx, database: values.database, fleet, ...window }
        : undefined;
      const baseline = storage ? await countStored(storage) : 0;
      const progress = new Progress(`run ${scenario.name}`);
      log(
        `park-sim run: ${scenarioFleet(scenario).length} devices of "${scenario.name}" → ${values.url}, ${durationMs / 1000} s at ${speed}×`,
      );
      const report = await runScenario({
        url: values.url,
        scenario,
        speed,
        durationMs,
        startMs,
        signal,
        ...credentials,
        ...(cmd
          ? { restartBroker: () => Promise.resolve(void execSync(cmd, { stdio: 'inherit' })) }
          : {}),
        onFault: (fault, note) => log(`fault ${fault.kind} at ${fault.at} ms: ${note}`),
        onProgress: (r, f) => progress.update(r, f),
      });
      progress.stop();
      const verdict = await judge(
        report,
        scenario.objectives,
        storage ? { ...storage, baseline } : undefined,
      );
      return finish(report, verdict, values.report);
    }
    case 'backfill': {
      if (!values.duration) throw new UsageError('backfill needs --duration <30m|2h|…>');
      const durationMs = duration(values.duration, '--duration');
      const now = Date.now();
      const endMs = values.end === undefined ? now : instant(values.end, '--end');
      // The telemetry contract refuses timestamps more than 5 minutes ahead or 7 days old.
      if (!(durationMs > 0) || durationMs > MAX_HISTORY_MS)
        throw new UsageError('--duration must be > 0 and at most 7 days (168h)');
      if (endMs > now + MAX_AHEAD_MS)
        throw new UsageError('--end must not be more than 5 minutes in the future');
      if (endMs - durationMs < now - MAX_HISTORY_MS)
        throw new UsageError(
          '--end minus --duration must be within the last 7 days (older samples are refused)',
        );
      const scenario = await loadScenario(values.scenario);
      if (values.seed !== undefined) scenario.seed = int(values.seed, '--seed', 0);
      const fleet = scenarioFleet(scenario);
      const window = { fromMs: endMs - durationMs, toMs: endMs };
      const storage = values.influx
        ? { influxUrl: values.influx, database: values.database, fleet, ...window }
        : undefined;
      const baseline = storage ? await countStored(storage) : 0;
      if (baseline > 0 && values.end !== undefined)
        log(
          `note: ${baseline} samples of these devices are already stored in this window; a repeat ` +
            'with the same --end and seed rewrites the same points, and the zero-loss check counts them as lost',
        );
      // All of it is generated before the upload, as a device's buffer is: memory grows with it.
      const expected = fleet.reduce((n, d) => n + durationMs / d.intervalMs, 0);
      log(
        `park-sim backfill: ${fleet.length} devices of "${scenario.name}" → ${values.url}, ` +
          `${new Date(window.fromMs).toISOString()} – ${new Date(endMs).toISOString()}, ≈ ${Math.round(expected)} samples`,
      );
      // backfill() cannot stop half-way: Ctrl-C or SIGTERM ends the process (last wills go out).
      signal.addEventListener('abort', () => process.exit(130), { once: true });
      // The devices (closed by now) stay out of the report: they do not serialise.
      const { fleet: _devices, ...report } = await backfill({
        url: values.url,
        scenario,
        durationMs,
        endMs,
        ...credentials,
      });
      // A bulk upload has no live latency objective: every sample acknowledged, and stored.
      const verdict = await judge(
        report,
        { zeroLoss: true, minAckedShare: 1 },
        storage
          ? {
              ...storage,
              baseline,
              // The ingestion stores after the broker acknowledged: allow it ≥ 5,000 samples/s.
              waitMs: Math.max(60_000, report.acked / 5),
            }
          : undefined,
      );
      return finish(report, verdict, values.report);
    }
    case 'load': {
      const devices = scienceCityFleet(int(values.devices, '--devices', 1));
      const rate = num(values.rate, '--rate');
      if (!values.messages && !values.duration)
        throw new UsageError('load needs --messages or --duration');
      const progress = new Progress('load');
      const durationMs = values.duration ? parseDuration(values.duration) : undefined;
      const messages = values.messages ? int(values.messages, '--messages', 1) : undefined;
      log(
        `park-sim load: ${devices.length} devices × ${rate > 0 ? `${rate} msg/s` : 'flat-out'} → ${values.url}`,
      );
      const report = await runLoad({
        url: values.url,
        devices,
        ratePerDevice: rate,
        window: int(values.window, '--window', 1),
        signal,
        ...credentials,
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(messages !== undefined ? { messagesPerDevice: messages } : {}),
        onProgress: (r) =>
          progress.update(
            r,
            durationMs
              ? (r.elapsedS * 1000) / durationMs
              : r.sent / (devices.length * (messages ?? 1)),
          ),
      });
      progress.stop();
      return finish(
        report,
        await judge(report, { zeroLoss: false, minAckedShare: 1 }),
        values.report,
      );
    }
    case 'record': {
      if (!values.out) throw new UsageError('record needs --out <file.ndjson.gz>');
      log(`park-sim record: ${values.filter} from ${values.url} → ${values.out} (Ctrl-C to stop)`);
      const result = await record({
        url: values.url,
        file: values.out,
        filter: values.filter,
        signal,
        ...credentials,
        ...(values.duration ? { durationMs: parseDuration(values.duration) } : {}),
        ...(values.messages ? { maxMessages: int(values.messages, '--messages', 1) } : {}),
        onProgress: (n) =>
          process.stdout.isTTY && process.stdout.write(`\rrecorded ${n} messages `),
      });
      log(`\nrecorded ${result.messages} messages into ${result.file}`);
      if (values.report) await writeFile(values.report, `${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    case 'replay': {
      if (!values.in) throw new UsageError('replay needs --in <file.ndjson.gz>');
      const progress = new Progress('replay');
      const report = await replay({
        url: values.url,
        file: values.in,
        speed: num(values.speed, '--speed'),
        clones: int(values.clones, '--clones', 1),
        loops: int(values.loops, '--loops', 1),
        signal,
        ...credentials,
        ...(values['shift-ms'] !== undefined ? { shiftMs: Number(values['shift-ms']) } : {}),
        onProgress: (r, f) => progress.update(r, f),
      });
      progress.stop();
      log(`timestamps shifted by ${report.shiftMs} ms`);
      return finish(
        report,
        await judge(report, { zeroLoss: false, minAckedShare: 1 }),
        values.report,
      );
    }
    case 'generate': {
      const scenario = await loadScenario(values.scenario);
      if (values.seed !== undefined) scenario.seed = int(values.seed, '--seed', 0);
      const generator = new FleetGenerator(
        scenarioFleet(scenario),
        scenario,
        int(values.start, '--start', 0),
      );
      let n = int(values.count, '--count', 1);
      for (let t = generator.startMs; n > 0; t += 1000) {
        for (const m of generator.until(t)) {
          if (n-- <= 0) break;
          process.stdout.write(`${m.device.deviceId} ${m.kind} ${wirePayload(m)}\n`);
        }
      }
      return 0;
    }
    case 'conform': {
      if (!values.device) throw new UsageError('conform needs --device <id>');
      // Loaded on use: the schema validator (Ajv) costs every other command's start-up otherwise.
      const { conform, deviceKeyFrom } = await import('./conform/conform.js');
      const { renderReport } = await import('./conform/render.js');
      const username = values.username ?? 'parkpulse-observer';
      const password = values.password ?? process.env['PARKPULSE_OBSERVER_SECRET'];
      if (password === undefined)
        throw new UsageError(
          'conform needs the observer secret: --password or $PARKPULSE_OBSERVER_SECRET',
        );
      const deviceKey =
        values['device-key'] ??
        (values['group-key'] ? deviceKeyFrom(values['group-key'], values.device) : undefined);
      const report = await conform({
        url: values.url,
        deviceId: values.device,
        username,
        password,
        watchMs: duration(values.watch, '--watch'),
        kicks: int(values.kicks, '--kicks', 1),
        reconnectWaitMs: duration(values['reconnect-wait'], '--reconnect-wait'),
        signal,
        ...(deviceKey !== undefined ? { deviceKey } : {}),
      });
      process.stdout.write(
        renderReport(report, Boolean(process.stdout.isTTY) && !process.env['NO_COLOR']),
      );
      if (values.report) await writeFile(values.report, `${JSON.stringify(report, null, 2)}\n`);
      return report.passed ? 0 : 1;
    }
    case 'device': {
      if (!values.device) throw new UsageError('device needs --device <id>');
      const faults = (values.fault ?? '').split(',').filter(Boolean);
      for (const f of faults)
        if (!(DEVICE_FAULTS as readonly string[]).includes(f))
          throw new UsageError(`--fault ${f}: one of ${DEVICE_FAULTS.join(', ')}`);
      const device = new ContractDevice({
        url: values.url,
        address: {
          park: values.park,
          site: values.site,
          assetType: values.asset,
          deviceId: values.device,
        },
        durationMs: duration(values.duration ?? '60s', '--duration'),
        faults: faults as DeviceFault[],
        signal,
        ...credentials,
        ...(values['interval-ms']
          ? { intervalMs: int(values['interval-ms'], '--interval-ms', 10) }
          : {}),
      });
      log(
        `park-sim device: ${values.device} (${values.asset}) → ${values.url}${faults.length ? `, faults: ${faults.join(', ')}` : ''}`,
      );
      const result = await device.run();
      log(
        `sent ${result.samples} samples, ${result.acked} acknowledged, ${result.connects} connections`,
      );
      return 0;
    }
    default:
      throw new UsageError(
        `unknown command "${command}" (run, backfill, load, record, replay, generate, conform, device)`,
      );
  }
}

async function finish(
  report: RunReport,
  verdict: Verdict,
  reportFile: string | undefined,
): Promise<number> {
  console.table(summaryRows(report));
  console.table(verdict.rows.map((r) => ({ ...r, pass: r.pass ? 'PASS' : 'FAIL' })));
  log(`verdict: ${verdict.pass ? 'PASS' : 'FAIL'}`);
  if (reportFile)
    await writeFile(reportFile, `${JSON.stringify({ ...report, verdict }, null, 2)}\n`);
  return verdict.pass ? 0 : 1;
}

class UsageError extends Error {}

const MAX_HISTORY_MS = 7 * 86_400_000;
const MAX_AHEAD_MS = 5 * 60_000;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function num(text: string | undefined, name: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a non-negative number`);
  return n;
}

function int(text: string | undefined, name: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer ≥ ${min}`);
  return n;
}

/** parseDuration, with a malformed value reported as a usage error. */
function duration(text: string, name: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(`${name}: ${error.message}`);
    throw error;
  }
}

/** An instant: epoch milliseconds or an ISO 8601 time. */
function instant(text: string, name: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(ms)) throw new UsageError(`${name} must be epoch ms or an ISO time`);
  return ms;
}

main().then(
  // Exit once stdout has drained: into a pipe it is asynchronous, and exit() would cut it short.
  (code) => process.stdout.write('', () => process.exit(code)),
  (error: unknown) => {
    process.stderr.write(`park-sim: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
