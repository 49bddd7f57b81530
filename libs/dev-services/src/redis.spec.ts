import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDIS_INSTALL_HINT, redisCommand, startRedis } from './redis.js';

describe('startRedis', () => {
  it('starts a private redis-server on a free port, and cleans up after itself', async () => {
    const redis = await startRedis();
    try {
      expect(redis.port).not.toBe(6379);
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(await redisCommand(redis.port, 'PING')).toBe('+PONG');
      expect(await redisCommand(redis.port, 'SET k v')).toBe('+OK');
      expect(await redisCommand(redis.port, 'DBSIZE')).toBe(':1');
      redis.pause();
      await expect(redisCommand(redis.port, 'PING', 300)).rejects.toThrow(/no reply/);
      redis.resume();
      expect(await redisCommand(redis.port, 'PING')).toBe('+PONG');
    } finally {
      await redis.stop();
    }
    expect(existsSync(redis.dataDir)).toBe(false);
    await expect(redisCommand(redis.port, 'PING', 300)).rejects.toThrow();
  });

  it('keeps what was written through a crash when it gets its data dir back', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parkpulse-redis-spec-'));
    try {
      const first = await startRedis({ dataDir });
      // appendonly + fsync: a crash after the fsync loses nothing.
      await redisCommand(first.port, 'SET survives yes');
      await new Promise((r) => setTimeout(r, 1500)); // appendfsync everysec
      await first.stop('SIGKILL');
      const second = await startRedis({ dataDir, port: first.port });
      try {
        expect(await redisCommand(second.port, 'GET survives')).toBe('$3');
      } finally {
        await second.stop();
      }
      expect(existsSync(dataDir)).toBe(true);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('fails with the install command when the binary is missing', async () => {
    const saved = { bin: process.env['REDIS_SERVER_BIN'], path: process.env['PATH'] };
    process.env['PATH'] = '/nonexistent';
    process.env['REDIS_SERVER_BIN'] = '/nonexistent/redis-server';
    try {
      // /usr/bin/redis-server is a fallback, so only assert the message when it is absent too.
      if (!existsSync('/usr/bin/redis-server'))
        await expect(startRedis()).rejects.toThrow(REDIS_INSTALL_HINT);
      else expect(REDIS_INSTALL_HINT).toMatch(/apt-get install -y redis-server/);
    } finally {
      process.env['PATH'] = saved.path;
      if (saved.bin === undefined) delete process.env['REDIS_SERVER_BIN'];
      else process.env['REDIS_SERVER_BIN'] = saved.bin;
    }
  });
});
