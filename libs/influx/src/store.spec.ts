import { Point } from '@influxdata/influxdb-client';
import { freePort, startInfluxd, type InfluxdHandle } from '@parkpulse/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_INFLUX_CONFIG } from './config.js';
import { toLineProtocol } from './lines.js';
import {
  InfluxQueryError,
  InfluxStore,
  InfluxWriteError,
  quoteIdent,
  quoteString,
} from './store.js';
import { toV1Path } from './v1-transport.js';

describe('toV1Path', () => {
  it('maps the v2 write call to the 1.x /write endpoint', () => {
    expect(toV1Path('/api/v2/write?org=o&bucket=telemetry%2F&precision=ms')).toBe(
      '/write?db=telemetry&precision=ms',
    );
    expect(toV1Path('/api/v2/write?org=o&bucket=telemetry%2Fraw&precision=s&consistency=one')).toBe(
      '/write?db=telemetry&rp=raw&precision=s&consistency=one',
    );
  });
  it('leaves other paths alone', () => {
    expect(toV1Path('/query')).toBe('/query');
    expect(toV1Path('/ping')).toBe('/ping');
  });
});

describe('InfluxQL quoting', () => {
  it('escapes quotes and backslashes', () => {
    expect(quoteIdent('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteString("it's \\")).toBe("'it\\'s \\\\'");
  });
});

describe('InfluxStore against a real influxd (v1 API)', () => {
  let influxd: InfluxdHandle;
  let store: InfluxStore;

  beforeAll(async () => {
    influxd = await startInfluxd();
    store = new InfluxStore({
      ...DEFAULT_INFLUX_CONFIG,
      url: influxd.url,
      database: 'unit',
      timeoutMs: 2000,
    });
    await store.ensureDatabase();
    await store.ensureDatabase(); // idempotent
  });

  afterAll(async () => {
    store?.close();
    await influxd?.stop();
  });

  it('writes a batch through the WriteApi and reads it back with InfluxQL', async () => {
    const t0 = Date.now() - 60_000;
    const points = Array.from({ length: 5000 }, (_, i) =>
      new Point('cnc_machine')
        .tag('device', `d-${i % 10}`)
        .floatField('spindle_rpm', i)
        .stringField('note', 'a b,c="d"\\')
        .timestamp(t0 + i),
    );
    await store.write(points);
    const [series = []] = await store.query(
      'SELECT COUNT("spindle_rpm"), SUM("spindle_rpm") FROM "cnc_machine"',
    );
    expect(series[0]?.values[0]?.slice(1)).toEqual([5000, (4999 * 5000) / 2]);
    const [notes = []] = await store.query(
      `SELECT "note" FROM "cnc_machine" WHERE "device" = ${quoteString('d-3')} LIMIT 1`,
    );
    expect(notes[0]?.values[0]?.[1]).toBe('a b,c="d"\\');
  });

  it('writing the same point again overwrites it (what makes redelivery idempotent)', async () => {
    const stamp = Date.now() - 60_000; // inside the raw tier's 30 days
    const p = () => new Point('dedupe').tag('device', 'x').floatField('v', 1).timestamp(stamp);
    await store.write([p()]);
    await store.write([p(), p()]);
    const [series = []] = await store.query('SELECT COUNT("v") FROM "dedupe"');
    expect(series[0]?.values[0]?.[1]).toBe(1);
  });

  it('a field-type conflict is a refusal (not retriable), and the valid points of the batch still land', async () => {
    const ts = Date.now() - 1000;
    await store.write([new Point('conflict').tag('device', 'a').floatField('v', 1).timestamp(ts)]);
    const error = await store
      .write([
        new Point('conflict').tag('device', 'b').stringField('v', 'text').timestamp(ts),
        new Point('conflict').tag('device', 'c').floatField('v', 3).timestamp(ts),
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfluxWriteError);
    expect((error as InfluxWriteError).retriable).toBe(false);
    expect((error as InfluxWriteError).statusCode).toBe(400);
    expect((error as InfluxWriteError).message).toMatch(/field type conflict/);
    const [series = []] = await store.query('SELECT COUNT("v") FROM "conflict"');
    expect(series[0]?.values[0]?.[1]).toBe(2);
  });

  it('points kept as line protocol (toLineProtocol) are written by writeLines as the points would be', async () => {
    const ts = Date.now() - 30_000;
    const points = [
      new Point('as_lines').tag('device', 'a').floatField('v', 1.5).timestamp(ts),
      new Point('as_lines')
        .tag('device', 'b')
        .stringField('s', 'x "y" \\ z')
        .timestamp(new Date(ts)),
      new Point('as_lines').tag('device', 'c'), // no fields: left out, as the WriteApi does
    ];
    const lines = toLineProtocol(points);
    expect(lines).toEqual([
      `as_lines,device=a v=1.5 ${ts}`,
      `as_lines,device=b s="x \\"y\\" \\\\ z" ${ts}`,
    ]);
    await store.writeLines(lines);
    await store.writeLines(lines); // the same again: overwritten, not added
    const [series = []] = await store.query('SELECT COUNT("v"), COUNT("s") FROM "as_lines"');
    expect(series[0]?.values[0]?.slice(1)).toEqual([1, 1]);
  });

  it('an InfluxQL error is reported with the statement', async () => {
    await expect(store.query('SELEKT nothing')).rejects.toBeInstanceOf(InfluxQueryError);
  });

  it('a database that hangs is retriable (timeout), and ping says down', async () => {
    influxd.pause();
    try {
      const error = await store
        .write([new Point('hang').floatField('v', 1)])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfluxWriteError);
      expect((error as InfluxWriteError).retriable).toBe(true);
    } finally {
      influxd.resume();
    }
    expect(await store.ping()).toBe(true);
  });

  it('a database that is not there is retriable, and ping says down', async () => {
    const nowhere = new InfluxStore({
      ...DEFAULT_INFLUX_CONFIG,
      url: `http://127.0.0.1:${await freePort()}`,
      timeoutMs: 1000,
    });
    const error = await nowhere.write([new Point('x').floatField('v', 1)]).catch((e: unknown) => e);
    expect((error as InfluxWriteError).retriable).toBe(true);
    expect(await nowhere.ping()).toBe(false);
    nowhere.close();
  });
});
