import {
  encodeSparkplugPayload,
  SPARKPLUG_DATATYPES as D,
  type MetricToEncode,
} from '@parkpulse/telemetry';
import type { SparkplugMapping } from '../src/mapping.js';

/** Fixtures shared by this lib's tests. */
export const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
export const GROUP = 'science-city';
export const NODE = 'line-1-plc';

export const MAPPING: SparkplugMapping = {
  hostId: 'parkpulse',
  nodes: [
    {
      group: GROUP,
      node: NODE,
      park: 'science-city',
      site: 'gz-auto-parts',
      assetType: 'production_line',
      deviceId: 'gz-line-1',
      devices: [
        { id: 'cnc-1', assetType: 'cnc_machine', deviceId: 'gz-cnc-001' },
        { id: 'robot-1', assetType: 'industrial_robot', deviceId: 'gz-robot-001' },
      ],
    },
  ],
  metricNames: { cnc_machine: { 'Spindle/Speed RPM': 'spindle_rpm' } },
};

export const topicOf = (verb: string, device?: string) =>
  `spBv1.0/${GROUP}/${verb}/${NODE}${device ? `/${device}` : ''}`;

export function nbirth(seq: number, bdSeq: number, ts = T0, extra: MetricToEncode[] = []): Buffer {
  return encodeSparkplugPayload({
    timestamp: ts,
    seq,
    metrics: [
      { name: 'bdSeq', datatype: D.Int64, value: bdSeq },
      { name: 'Node Control/Rebirth', datatype: D.Boolean, value: false },
      { name: 'Line/Good Count', alias: 1, datatype: D.UInt64, value: 100 },
      { name: 'Line/Power kW', alias: 2, datatype: D.Float, value: 41.2 },
      ...extra,
    ],
  });
}

export function ndeath(bdSeq: number, ts = T0): Buffer {
  return encodeSparkplugPayload({
    timestamp: ts,
    metrics: [{ name: 'bdSeq', datatype: D.Int64, value: bdSeq }],
  });
}

export function dbirthCnc(seq: number, ts = T0, extra: MetricToEncode[] = []): Buffer {
  return encodeSparkplugPayload({
    timestamp: ts,
    seq,
    metrics: [
      { name: 'Spindle/Speed RPM', alias: 10, datatype: D.Int32, value: 11850 },
      { name: 'Temperature C', alias: 11, datatype: D.Double, value: 41.5 },
      { name: 'State', alias: 12, datatype: D.String, value: 'running' },
      { name: 'Door Open', alias: 13, datatype: D.Boolean, value: false },
      ...extra,
    ],
  });
}

/** DDATA by alias only, as the specification wants it. */
export function ddataCnc(seq: number, ts: number, rpm: number): Buffer {
  return encodeSparkplugPayload({
    timestamp: ts,
    seq,
    metrics: [{ alias: 10, timestamp: ts, datatype: D.Int32, value: rpm }],
  });
}
