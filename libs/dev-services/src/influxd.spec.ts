import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INFLUXD_INSTALL_HINT, startInfluxd } from './influxd.js';
import { freePort } from './ports.js';

describe('startInfluxd', () => {
  it('starts a private influxd that answers, pauses and resumes, and cleans up after itself', async () => {
    const influxd = await startInfluxd();
    try {
      expect((await fetch(`${influxd.url}/ping`)).status).toBe(204);
      const created = await fetch(`${influxd.url}/query`, {
        method: 'POST',
        body: new URLSearchParams({ q: 'CREATE DATABASE t' }),
      });
      expect(created.status).toBe(200);
      influxd.pause();
      await new Promise((r) => setTimeout(r, 100));
      const paused = await fetch(`${influxd.url}/ping`, { signal: AbortSignal.timeout(300) }).then(
        () => 'answered',
        () => 'silent',
      );
      expect(paused).toBe('silent');
      influxd.resume();
      expect((await fetch(`${influxd.url}/ping`)).status).toBe(204);
    } finally {
      await influxd.stop();
    }
    expect(existsSync(influxd.dataDir)).toBe(false);
  });

  it('fails with the install command when the binary is missing', async () => {
    const saved = { bin: process.env['INFLUXD_BIN'], path: process.env['PATH'] };
    process.env['PATH'] = '/nonexistent';
    process.env['INFLUXD_BIN'] = '/nonexistent/influxd';
    try {
      // /usr/bin/influxd is a fallback, so only assert the message when it is absent too.
      if (!existsSync('/usr/bin/influxd'))
        await expect(startInfluxd()).rejects.toThrow(INFLUXD_INSTALL_HINT);
      else expect(INFLUXD_INSTALL_HINT).toMatch(/apt-get install -y influxdb/);
    } finally {
      process.env['PATH'] = saved.path;
      if (saved.bin === undefined) delete process.env['INFLUXD_BIN'];
      else process.env['INFLUXD_BIN'] = saved.bin;
    }
  });
});

describe('freePort', () => {
  it('returns distinct usable ports', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    for (const p of ports) expect(p).toBeGreaterThan(1024);
  });
});
