import { getAssetType, isParkId, type AssetTypeSpec, type ParkId } from './catalogue/index.js';
import { fail, ok, type Result } from './errors.js';
import { replaceControlChars } from './text.js';

/**
 * Channels a device publishes on (`up`) and the one it receives on (`cmd`). `cmd_result` is the
 * device's answer to a command (see commands.ts).
 */
export const UP_CHANNELS = ['telemetry', 'status', 'event', 'cmd_result'] as const;
export type UpChannel = (typeof UP_CHANNELS)[number];
export type Channel = UpChannel | 'cmd';

export const TOPIC_ROOT = 'parks';
export const SITE_PATTERN = /^[a-z0-9-]{1,32}$/;
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The address a topic encodes: `parks/{park}/{site}/{assetType}/{deviceId}/{channel}`. */
export interface TopicAddress {
  readonly park: ParkId;
  readonly site: string;
  readonly assetType: string;
  readonly deviceId: string;
  readonly channel: Channel;
}

export interface ParsedTopic extends TopicAddress {
  readonly asset: AssetTypeSpec;
}

const CHANNELS: ReadonlySet<string> = new Set([...UP_CHANNELS, 'cmd']);

/** Parses and checks a topic against the contract and the catalogue. */
export function parseTopic(topic: string): Result<ParsedTopic> {
  const parts = topic.split('/');
  if (parts.length !== 6 || parts[0] !== TOPIC_ROOT) {
    const rule =
      parts[0] !== TOPIC_ROOT
        ? `the first level must be "${TOPIC_ROOT}"`
        : `${parts.length} levels, a topic has 6`;
    return fail(
      'topic_invalid',
      `${rule}: expected ${TOPIC_ROOT}/{park}/{site}/{assetType}/{deviceId}/{channel}, got "${clip(topic)}"`,
    );
  }
  const [, park = '', site = '', assetType = '', deviceId = '', channel = ''] = parts;
  if (!isParkId(park))
    return fail('unknown_park', `"${clip(park)}" is not a park of the catalogue`);
  if (!SITE_PATTERN.test(site))
    return fail('topic_invalid', `site "${clip(site)}" must match ${SITE_PATTERN.source}`);
  const asset = getAssetType(assetType);
  if (!asset)
    return fail('unknown_asset_type', `"${clip(assetType)}" is not an asset type of the catalogue`);
  if (!asset.parks.includes(park)) {
    return fail('asset_type_not_in_park', `"${assetType}" does not exist in park "${park}"`);
  }
  if (!DEVICE_ID_PATTERN.test(deviceId)) {
    return fail(
      'topic_invalid',
      `device id "${clip(deviceId)}" must match ${DEVICE_ID_PATTERN.source}`,
    );
  }
  if (!CHANNELS.has(channel))
    return fail(
      'unknown_channel',
      `channel "${clip(channel)}" is not one of ${[...UP_CHANNELS, 'cmd'].join(', ')} (lower case)`,
    );
  return ok({ park, site, assetType, deviceId, channel: channel as Channel, asset });
}

export function formatTopic(address: TopicAddress): string {
  const { park, site, assetType, deviceId, channel } = address;
  return `${TOPIC_ROOT}/${park}/${site}/${assetType}/${deviceId}/${channel}`;
}

/** Subscription filter for one up channel of every device. */
export function channelFilter(channel: UpChannel): string {
  return `${TOPIC_ROOT}/+/+/+/+/${channel}`;
}

/** Shortens untrusted text before it goes into an error message. */
export function clip(text: string, max = 80): string {
  const printable = replaceControlChars(text);
  return printable.length > max ? `${printable.slice(0, max)}…` : printable;
}
