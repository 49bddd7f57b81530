import { describe, expect, it } from 'vitest';
import { getAssetType } from './catalogue/index.js';
import type { Result } from './errors.js';
import {
  channelFilter,
  clip,
  formatTopic,
  parseTopic,
  UP_CHANNELS,
  type ParsedTopic,
  type TopicAddress,
} from './topic.js';

const BASE = 'parks/science-city/plant-a/cnc_machine';

function topicWithDevice(deviceId: string): string {
  return `${BASE}/${deviceId}/telemetry`;
}

function parsed(topic: string): ParsedTopic {
  const result = parseTopic(topic);
  if (!result.ok) throw new Error(`expected ${topic} to parse: ${result.error.message}`);
  return result.value;
}

function rejection(result: Result<unknown>): { reason: string; detail: string } {
  if (result.ok) throw new Error('expected a rejection, got a value');
  return { reason: result.error.reason, detail: result.error.detail };
}

describe('parseTopic', () => {
  it.each([...UP_CHANNELS, 'cmd'] as const)('accepts a valid %s topic', (channel) => {
    const value = parsed(`parks/science-city/plant-a/cnc_machine/CNC_01-a/${channel}`);
    expect(value).toMatchObject({
      park: 'science-city',
      site: 'plant-a',
      assetType: 'cnc_machine',
      deviceId: 'CNC_01-a',
      channel,
    });
    expect(value.asset).toBe(getAssetType('cnc_machine'));
  });

  it('accepts a common asset type in every park and the longest site and device id', () => {
    const site = 's'.repeat(32);
    const device = 'D'.repeat(64);
    const value = parsed(`parks/bio-island/${site}/energy_meter/${device}/status`);
    expect(value).toMatchObject({
      park: 'bio-island',
      site,
      assetType: 'energy_meter',
      deviceId: device,
    });
  });

  describe('topic_invalid: shape', () => {
    it.each([
      ['too few levels', `${BASE}/cnc-01`],
      ['too many levels', `${BASE}/cnc-01/telemetry/extra`],
      ['a trailing slash', `${BASE}/cnc-01/telemetry/`],
      ['a leading slash', `/${BASE}/cnc-01/telemetry`],
      ['the empty string', ''],
      ['a wrong root', 'park/science-city/plant-a/cnc_machine/cnc-01/telemetry'],
      ['an upper-case root', 'Parks/science-city/plant-a/cnc_machine/cnc-01/telemetry'],
    ])('rejects %s', (_label, topic) => {
      const { reason, detail } = rejection(parseTopic(topic));
      expect(reason).toBe('topic_invalid');
      expect(detail).toContain('expected parks/{park}/{site}/{assetType}/{deviceId}/{channel}');
      expect(detail).toContain(`got "${topic}"`);
    });

    it.each([
      [`${BASE}/cnc-01/telemetry/extra`, '7 levels, a topic has 6'],
      [`${BASE}/cnc-01/telemetry/`, '7 levels, a topic has 6'],
      [`${BASE}/telemetry`, '5 levels, a topic has 6'],
      ['park/science-city/plant-a/cnc_machine/cnc-01/telemetry', 'the first level must be "parks"'],
    ])('names the rule %s broke', (topic, rule) => {
      expect(rejection(parseTopic(topic)).detail.startsWith(`${rule}: expected`)).toBe(true);
    });
  });

  describe('topic_invalid: site', () => {
    it.each([
      ['empty', ''],
      ['upper case', 'Plant-A'],
      ['an underscore', 'plant_a'],
      ['a space', 'plant a'],
      ['33 characters', 's'.repeat(33)],
    ])('rejects a site with %s', (_label, site) => {
      const { reason, detail } = rejection(
        parseTopic(`parks/science-city/${site}/cnc_machine/cnc-01/telemetry`),
      );
      expect(reason).toBe('topic_invalid');
      expect(detail).toBe(`site "${site}" must match ^[a-z0-9-]{1,32}$`);
    });
  });

  describe('topic_invalid: device id (InfluxDB line-protocol breakers included)', () => {
    it.each([
      ['empty', ''],
      ['a space', 'cnc 01'],
      ['a comma', 'cnc,01'],
      ['an equals sign', 'cnc=01'],
      ['a double quote', 'cnc"01'],
      ['a single quote', "cnc'01"],
      ['a backslash', 'cnc\\01'],
      ['a dot', 'cnc.01'],
      ['a non-ASCII letter', 'cnc-ü'],
      ['65 characters', 'd'.repeat(65)],
    ])('rejects a device id with %s', (_label, deviceId) => {
      const { reason, detail } = rejection(parseTopic(topicWithDevice(deviceId)));
      expect(reason).toBe('topic_invalid');
      expect(detail).toBe(`device id "${deviceId}" must match ^[A-Za-z0-9_-]{1,64}$`);
    });

    it.each([
      ['an embedded newline', 'cnc\n01', 'cnc?01'],
      ['a trailing newline', 'cnc01\n', 'cnc01?'],
      ['a carriage return', 'cnc01\r', 'cnc01?'],
      ['a tab', 'cnc\t01', 'cnc?01'],
    ])('rejects a device id with %s and shows it clipped', (_label, deviceId, shown) => {
      const { reason, detail } = rejection(parseTopic(topicWithDevice(deviceId)));
      expect(reason).toBe('topic_invalid');
      expect(detail).toBe(`device id "${shown}" must match ^[A-Za-z0-9_-]{1,64}$`);
      expect(detail).not.toMatch(/[\n\r\t]/);
    });
  });

  it('rejects an unknown park', () => {
    const { reason, detail } = rejection(
      parseTopic('parks/mars-base/plant-a/cnc_machine/cnc-01/telemetry'),
    );
    expect(reason).toBe('unknown_park');
    expect(detail).toBe('"mars-base" is not a park of the catalogue');
  });

  it('rejects a park id in the wrong case', () => {
    expect(
      rejection(parseTopic('parks/Science-City/plant-a/cnc_machine/cnc-01/telemetry')).reason,
    ).toBe('unknown_park');
  });

  it.each(['toaster', '__proto__', 'constructor', 'CNC_machine'])(
    'rejects the unknown asset type %s',
    (assetType) => {
      const { reason, detail } = rejection(
        parseTopic(`parks/science-city/plant-a/${assetType}/cnc-01/telemetry`),
      );
      expect(reason).toBe('unknown_asset_type');
      expect(detail).toBe(`"${assetType}" is not an asset type of the catalogue`);
    },
  );

  it.each([
    ['ultra_low_freezer', 'science-city'],
    ['cnc_machine', 'bio-island'],
    ['ai_compute_cluster', 'knowledge-city'],
    ['base_station_5g', 'yuzhu'],
  ])('rejects %s in park %s', (assetType, park) => {
    const { reason, detail } = rejection(
      parseTopic(`parks/${park}/site-1/${assetType}/dev-1/telemetry`),
    );
    expect(reason).toBe('asset_type_not_in_park');
    expect(detail).toBe(`"${assetType}" does not exist in park "${park}"`);
  });

  it.each(['telemetr', 'telemetri', 'Telemetry', 'TELEMETRY', 'events', 'cmds', ''])(
    'rejects the unknown channel "%s"',
    (channel) => {
      const { reason, detail } = rejection(parseTopic(`${BASE}/cnc-01/${channel}`));
      expect(reason).toBe('unknown_channel');
      expect(detail).toBe(
        `channel "${channel}" is not one of telemetry, status, event, cmd_result, cmd (lower case)`,
      );
    },
  );

  it('checks the park before the site and the asset type before the device id', () => {
    expect(
      rejection(parseTopic('parks/nowhere/BAD SITE/cnc_machine/cnc-01/telemetry')).reason,
    ).toBe('unknown_park');
    expect(
      rejection(parseTopic('parks/science-city/plant-a/toaster/bad id/telemetry')).reason,
    ).toBe('unknown_asset_type');
  });
});

describe('formatTopic', () => {
  it('round-trips with parseTopic for every channel', () => {
    for (const channel of [...UP_CHANNELS, 'cmd'] as const) {
      const address: TopicAddress = {
        park: 'yuzhu',
        site: 'tower-3',
        assetType: 'elevator',
        deviceId: 'lift_07',
        channel,
      };
      const topic = formatTopic(address);
      expect(topic).toBe(`parks/yuzhu/tower-3/elevator/lift_07/${channel}`);
      const { asset, ...back } = parsed(topic);
      expect(back).toEqual(address);
      expect(asset.id).toBe('elevator');
    }
  });

  it('formats a parsed topic back to the same string', () => {
    const topic = 'parks/bio-island/bsl-3/ultra_low_freezer/ulf-12/event';
    expect(formatTopic(parsed(topic))).toBe(topic);
  });
});

describe('channelFilter', () => {
  it('matches one channel of every device', () => {
    expect(channelFilter('telemetry')).toBe('parks/+/+/+/+/telemetry');
    expect(channelFilter('status')).toBe('parks/+/+/+/+/status');
  });
});

describe('clip', () => {
  it('replaces every C0 control character and DEL with "?"', () => {
    expect(clip('a\u0000b\nc\rd\te\u001bf\u001fg\u007fh')).toBe('a?b?c?d?e?f?g?h');
  });

  it('leaves printable text alone', () => {
    expect(clip('plant-a/cnc 01 "x" ü')).toBe('plant-a/cnc 01 "x" ü');
  });

  it('keeps text of exactly max characters and shortens longer text with an ellipsis', () => {
    expect(clip('x'.repeat(80))).toBe('x'.repeat(80));
    expect(clip('x'.repeat(81))).toBe(`${'x'.repeat(80)}…`);
    expect(clip('abcdef', 3)).toBe('abc…');
  });

  it('clips and sanitises untrusted topics in rejection details', () => {
    const topic = `parks/a\nb/${'x'.repeat(200)}`;
    const { detail } = rejection(parseTopic(topic));
    expect(detail).not.toContain('\n');
    expect(detail).toContain('got "parks/a?b/xxx');
    expect(detail).toContain('…"');
    expect(detail.length).toBeLessThan(200);
  });
});
