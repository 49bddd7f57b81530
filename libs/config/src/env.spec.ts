import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, env, maskSecrets, parseEnv } from './env.js';

const schema = z.object({
  PORT: env.port(1883),
  FLUSH_MS: env.int(100, 1),
  GZIP: env.bool(true),
  MODE: z.enum(['v1', 'v2']).default('v1'),
  TOPICS: env.list('a,b'),
});

describe('parseEnv', () => {
  it('applies defaults and coerces strings', () => {
    expect(parseEnv(schema, { PORT: '1884', GZIP: 'no', TOPICS: ' x , y ,' })).toEqual({
      PORT: 1884,
      FLUSH_MS: 100,
      GZIP: false,
      MODE: 'v1',
      TOPICS: ['x', 'y'],
    });
  });

  it('treats an empty variable as unset', () => {
    expect(parseEnv(schema, { PORT: '' }).PORT).toBe(1883);
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      parseEnv(schema, { PORT: '70000', FLUSH_MS: '0', MODE: 'v3', GZIP: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'FLUSH_MS',
      'GZIP',
      'MODE',
      'PORT',
    ]);
  });
});

describe('maskSecrets', () => {
  it('hides passwords, tokens and keys, keeps the rest', () => {
    expect(
      maskSecrets({
        INFLUX_PASSWORD: 'p',
        INFLUX_TOKEN: 't',
        GROUP_KEY: 'k',
        INFLUX_URL: 'http://x',
        EMPTY_TOKEN: '',
      }),
    ).toEqual({
      INFLUX_PASSWORD: '***',
      INFLUX_TOKEN: '***',
      GROUP_KEY: '***',
      INFLUX_URL: 'http://x',
      EMPTY_TOKEN: '',
    });
  });
});
