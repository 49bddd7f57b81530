import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deviceCredentials, waitFor } from '@parkpulse/dev-services';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperations, type Operations } from './support/operations.js';
import { ROOT, startPlatform, type Platform } from './support/platform.js';

/** Debian's Chromium; never a downloaded browser. */
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'tests', 'screenshots');
/** The README's picture of the console, retaken when PARKPULSE_README_IMAGES=1. */
const README_IMAGE = join(ROOT, 'docs', 'images', 'console-alarms.png');
const SITE = 'sample-store';
const FREEZER = 'bio-freezer-e2e-01';
const HIHI = `${FREEZER}.cabinet_temp_c.hihi`;

interface AlarmBody {
  id: string;
  state: string;
  activation: number;
  history: { action: string; by: string; comment: string; toState: string }[];
}

/** A freezer on MQTT.js publishing its telemetry as the contract says. */
async function freezer(url: string, deviceId: string): Promise<MqttClient> {
  const login = deviceCredentials(deviceId);
  const base = `parks/bio-island/${SITE}/ultra_low_freezer/${deviceId}`;
  const client = await mqtt.connectAsync(url, {
    clientId: login.clientId,
    username: login.username,
    password: login.password,
    clean: true,
    reconnectPeriod: 0,
    will: { topic: `${base}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
  });
  await client.publishAsync(`${base}/status`, 'online', { qos: 1, retain: true });
  return client;
}

function cabinet(client: MqttClient, deviceId: string, celsius: number): Promise<unknown> {
  return client.publishAsync(
    `parks/bio-island/${SITE}/ultra_low_freezer/${deviceId}/telemetry`,
    JSON.stringify({ metrics: { cabinet_temp_c: celsius, setpoint_c: -80, door_open: false } }),
    { qos: 1 },
  );
}

/**
 * The operator console in a real browser (Debian's Chromium through playwright-core) against
 * the built services: a freezer warms past its limit, the alarm appears live, is acknowledged,
 * returns to normal; shelving hides it until the shelf expires; a viewer cannot act; a flood of
 * 200 freezers renders and is counted as a flood.
 */
describe('alarm console in a browser', () => {
  let platform: Platform;
  let ops: Operations;
  let browser: Browser;
  let device: MqttClient;
  const contexts: BrowserContext[] = [];
  const flood: MqttClient[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is required. On Debian/Ubuntu: sudo apt-get install -y chromium`,
      );
    mkdirSync(SHOTS, { recursive: true });
    platform = await startPlatform();
    // No on/off delays (the unit tests cover them); shelves and delays checked every 200 ms.
    ops = await startOperations(platform, 'sqlite', {
      ALARM_DELAY_SCALE: '0',
      ALARM_TICK_MS: '200',
      ALARM_SHELVE_MAX_S: '3600',
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    device = await freezer(platform.mqttUrl, FREEZER);
    await cabinet(device, FREEZER, -80);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    for (const c of [device, ...flood]) await c?.endAsync().catch(() => undefined);
    await ops?.stop();
    await platform?.stop();
  });

  const open = async (username: string, password: string): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${ops.url}/console/`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=alarm-table]');
    await page.waitForSelector('text=● live');
    return page;
  };
  const row = (page: Page, id: string) => page.locator(`tr[data-alarm-id="${id}"]`);
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const alarm = async (id: string) =>
    (await ops.api<AlarmBody>('GET', `/api/v1/alarms/${id}`, ops.tokens.viewer)).body;

  let operator: Page;

  it('a warming freezer raises its alarm in the console within 5 s, without a reload', async () => {
    operator = await open('olga', 'olga-password-1');
    await shot(operator, '1-no-alarms');
    const raisedAt = Date.now();
    await cabinet(device, FREEZER, -62.5);
    await row(operator, HIHI).waitFor({ timeout: 5000 });
    console.log(`alarm shown ${Date.now() - raisedAt} ms after the sample was published`);
    await expect.poll(() => row(operator, HIHI).getAttribute('data-state')).toBe('unacknowledged');
    expect(await row(operator, HIHI).locator('.badge').textContent()).toBe('critical');
    // Sorted by priority: the critical high-high above the medium high.
    const ids = await operator
      .locator('tbody tr')
      .evaluateAll((rows: { getAttribute(name: string): string | null }[]) =>
        rows.map((r) => r.getAttribute('data-alarm-id')),
      );
    expect(ids).toEqual([HIHI, `${FREEZER}.cabinet_temp_c.hi`]);
    await shot(operator, '2-freezer-alarm');
  });

  it('an operator acknowledges it with a comment; it is recorded with who and when', async () => {
    await row(operator, HIHI).locator('button[data-action=ack]').click();
    await operator.fill(
      '[data-testid=action-form] input[name=comment]',
      'door left ajar; closed it',
    );
    await shot(operator, '3-acknowledge');
    if (process.env.PARKPULSE_README_IMAGES === '1') {
      mkdirSync(dirname(README_IMAGE), { recursive: true });
      await operator.screenshot({
        path: README_IMAGE,
        clip: { x: 0, y: 0, width: 1400, height: 430 },
      });
    }
    await operator.click('[data-testid=action-form] button[type=submit]');
    await expect.poll(() => row(operator, HIHI).getAttribute('data-state')).toBe('acknowledged');
    const a = await alarm(HIHI);
    expect(a.history.map((h) => [h.action, h.toState, h.by, h.comment])).toEqual([
      ['activate', 'unacknowledged', 'system', ''],
      ['acknowledge', 'acknowledged', 'olga', 'door left ajar; closed it'],
    ]);
  });

  it('the freezer recovers: the alarm returns to normal and leaves the list', async () => {
    await cabinet(device, FREEZER, -79);
    await row(operator, HIHI).waitFor({ state: 'detached' });
    expect((await alarm(HIHI)).state).toBe('normal');
    await operator.goto(`${ops.url}/console/#/devices/${FREEZER}`);
    await operator.waitForSelector(
      `[data-testid=device-view] tr[data-alarm-id="${HIHI}"][data-state=normal]`,
    );
    expect(await operator.textContent('[data-testid=presence]')).toBe('online');
    await shot(operator, '4-device-view');
    await operator.goto(`${ops.url}/console/#/alarms`);
  });

  it('shelving hides an alarm until its shelf expires', async () => {
    await cabinet(device, FREEZER, -65);
    await row(operator, HIHI).waitFor();
    await row(operator, HIHI).locator('button[data-action=shelve]').click();
    await operator.fill('[data-testid=action-form] input[name=comment]', 'defrost service visit');
    await operator.fill('[data-testid=action-form] input[name=duration]', '4s');
    await operator.click('[data-testid=action-form] button[type=submit]');
    await row(operator, HIHI).waitFor({ state: 'detached' });
    const shelved = await alarm(HIHI);
    expect(shelved.state).toBe('shelved');
    await shot(operator, '5-shelved');
    // Still active when the shelf expires: annunciated again, unacknowledged.
    await row(operator, HIHI).waitFor({ timeout: 15_000 });
    await expect.poll(() => row(operator, HIHI).getAttribute('data-state')).toBe('unacknowledged');
    expect((await alarm(HIHI)).history.slice(-2).map((h) => [h.action, h.by])).toEqual([
      ['shelve', 'olga'],
      ['shelf_expired', 'system'],
    ]);
  });

  it('a viewer sees the alarm but cannot acknowledge it (no button; the API says 403)', async () => {
    const viewer = await open('victor', 'victor-password-1');
    await row(viewer, HIHI).waitFor();
    expect(await row(viewer, HIHI).locator('button').count()).toBe(0);
    await shot(viewer, '6-viewer');
    const before = await alarm(HIHI);
    const r = await ops.api('POST', `/api/v1/alarms/${HIHI}/acknowledge`, ops.tokens.viewer, {
      comment: 'not mine to ack',
    });
    expect(r.status).toBe(403);
    expect(await alarm(HIHI)).toEqual(before);
  });

  it('a flood: 200 freezers alarming in the same minute render, and count as a flood', async () => {
    const ids = Array.from(
      { length: 200 },
      (_, i) => `bio-freezer-flood-${String(i).padStart(3, '0')}`,
    );
    for (let i = 0; i < ids.length; i += 20)
      flood.push(
        ...(await Promise.all(ids.slice(i, i + 20).map((id) => freezer(platform.mqttUrl, id)))),
      );
    const before = Number(await operator.textContent('[data-testid=alarm-count]'));
    const start = Date.now();
    await Promise.all(flood.map((c, i) => cabinet(c, ids[i]!, -60)));
    // Two alarms per freezer: high and high-high.
    await expect
      .poll(() => operator.textContent('[data-testid=alarm-count]'), {
        timeout: 60_000,
        interval: 100,
      })
      .toBe(String(before + 400));
    await operator.locator(`tr[data-alarm-id="${ids[199]}.cabinet_temp_c.hihi"]`).waitFor();
    console.log(
      `flood: 400 alarms of 200 devices listed in the console ${Date.now() - start} ms after publishing`,
    );
    // Still sorted: every critical row before every medium one.
    const priorities = await operator.locator('tbody tr .badge').allTextContents();
    expect(priorities.indexOf('medium')).toBe(priorities.lastIndexOf('critical') + 1);
    await shot(operator, '7-flood');

    await waitFor('KPIs count the flood', async () => {
      const k = await ops.api<{ annunciated: number; floods: { count: number } }>(
        'GET',
        '/api/v1/alarms/kpis',
        ops.tokens.viewer,
      );
      return k.body.annunciated === 404 && k.body.floods.count >= 1;
    });
    await operator.goto(`${ops.url}/console/#/kpis`);
    await operator.waitForSelector('[data-testid=kpi-annunciated]');
    expect(await operator.textContent('[data-testid=kpi-annunciated]')).toBe('404');
    expect(Number(await operator.textContent('[data-testid=kpi-floods]'))).toBeGreaterThanOrEqual(
      1,
    );
    await shot(operator, '8-kpis');
  });
});
