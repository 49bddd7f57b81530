import { describe, expect, it } from 'vitest';
import {
  BatchFormatError,
  decodeBatch,
  encodeBatch,
  encodedSize,
  type LinkMessage,
} from './batch.js';
import { ownerOf, partitionKey } from './partition.js';

const message = (over: Partial<LinkMessage> = {}): LinkMessage => ({
  topic: 'parks/science-city/f1/cnc_machine/cnc-1/telemetry',
  payload: Buffer.from('{"metrics":{"spindle_rpm":1}}'),
  qos: 1,
  retain: false,
  will: false,
  clientId: 'cnc-1',
  receivedAt: 1_764_000_000_123,
  ...over,
});

describe('batch codec', () => {
  it('round-trips every field, binary payloads and non-ASCII text included', () => {
    const messages = [
      message(),
      message({ qos: 0, retain: true, will: true, clientId: '', topic: 'parks/a/b/c/δ/status' }),
      message({ payload: Buffer.from([0, 255, 1, 2]), receivedAt: 1.5 }),
      message({ payload: Buffer.alloc(0) }),
    ];
    const encoded = encodeBatch(messages);
    expect(encoded.length).toBe(5 + messages.reduce((n, m) => n + encodedSize(m), 0));
    expect(decodeBatch(encoded)).toEqual(messages);
  });

  it('encodes an empty batch', () => {
    expect(decodeBatch(encodeBatch([]))).toEqual([]);
  });

  it('refuses truncated batches, trailing bytes and other versions', () => {
    const encoded = encodeBatch([message(), message()]);
    for (let cut = 0; cut < encoded.length; cut++)
      expect(() => decodeBatch(encoded.subarray(0, cut))).toThrow(BatchFormatError);
    expect(() => decodeBatch(Buffer.concat([encoded, Buffer.from([0])]))).toThrow(
      'bytes after the last message',
    );
    const v2 = Buffer.from(encoded);
    v2[0] = 2;
    expect(() => decodeBatch(v2)).toThrow('batch version 2');
  });
});

describe('partitioning', () => {
  it('keys contract topics by device, Sparkplug by edge node, anything else by client', () => {
    expect(partitionKey('parks/p/s/t/dev-1/telemetry', 'dev-1')).toBe('dev-1');
    expect(partitionKey('parks/p/s/t/dev-1/telemetri/x', 'dev-1')).toBe('dev-1');
    expect(partitionKey('spBv1.0/line-1/DDATA/plc-1/cnc-3', 'plc-1')).toBe('spBv1.0/line-1/plc-1');
    expect(partitionKey('spBv1.0/line-1/NBIRTH/plc-1', 'plc-1')).toBe('spBv1.0/line-1/plc-1');
    expect(partitionKey('$SYS/parkpulse/brokers/b1/stats', '')).toBe(
      '$SYS/parkpulse/brokers/b1/stats',
    );
    expect(partitionKey('parks/p', 'c')).toBe('c');
  });

  it('spreads keys over instances, and moves only the keys of an instance that leaves', () => {
    const instances = ['ing-a', 'ing-b', 'ing-c'];
    const keys = Array.from({ length: 3000 }, (_, i) => `device-${i}`);
    const before = new Map(keys.map((k) => [k, ownerOf(k, instances)!]));
    const share = (owner: string) => [...before.values()].filter((o) => o === owner).length;
    for (const i of instances) expect(share(i)).toBeGreaterThan(800);
    const remaining = ['ing-a', 'ing-c'];
    for (const k of keys) {
      const now = ownerOf(k, remaining);
      if (before.get(k) !== 'ing-b') expect(now).toBe(before.get(k));
      else expect(remaining).toContain(now);
    }
    expect(ownerOf('x', [])).toBeUndefined();
  });
});
