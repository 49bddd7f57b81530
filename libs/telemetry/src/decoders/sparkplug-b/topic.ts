import { fail, ok, type Result } from '../../errors.js';
import { clip } from '../../topic.js';

/** The Sparkplug B namespace token, the first level of every Sparkplug B topic. */
export const SPARKPLUG_NAMESPACE = 'spBv1.0';

export const SPARKPLUG_VERBS = [
  'NBIRTH',
  'NDATA',
  'NDEATH',
  'NCMD',
  'DBIRTH',
  'DDATA',
  'DDEATH',
  'DCMD',
] as const;
export type SparkplugVerb = (typeof SPARKPLUG_VERBS)[number];
const NODE_VERBS: ReadonlySet<string> = new Set(['NBIRTH', 'NDATA', 'NDEATH', 'NCMD']);
const DEVICE_VERBS: ReadonlySet<string> = new Set(['DBIRTH', 'DDATA', 'DDEATH', 'DCMD']);

/** What an edge node publishes (the others, NCMD and DCMD, are sent to it). */
export const SPARKPLUG_UP_VERBS = [
  'NBIRTH',
  'NDATA',
  'NDEATH',
  'DBIRTH',
  'DDATA',
  'DDEATH',
] as const;

export type SparkplugTopic =
  | {
      readonly kind: 'node';
      readonly group: string;
      readonly verb: 'NBIRTH' | 'NDATA' | 'NDEATH' | 'NCMD';
      readonly node: string;
    }
  | {
      readonly kind: 'device';
      readonly group: string;
      readonly verb: 'DBIRTH' | 'DDATA' | 'DDEATH' | 'DCMD';
      readonly node: string;
      readonly device: string;
    }
  | { readonly kind: 'state'; readonly hostId: string };

/**
 * An id level of a Sparkplug topic: UTF-8 without the MQTT wildcards and `/` (specification 3.0,
 * "Topic Namespace Elements"); control characters refused as everywhere in ParkPulse.
 */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
export const SPARKPLUG_ID_PATTERN = /^[^/+#\u0000-\u001f\u007f]{1,128}$/;

/**
 * `spBv1.0/{group}/{N*}/{edge node}`, `spBv1.0/{group}/{D*}/{edge node}/{device}` or
 * `spBv1.0/STATE/{host id}` (Sparkplug 3.0, "Topic Namespace").
 */
export function parseSparkplugTopic(topic: string): Result<SparkplugTopic> {
  const parts = topic.split('/');
  if (parts[0] !== SPARKPLUG_NAMESPACE)
    return fail(
      'sparkplug_topic_invalid',
      `"${clip(topic)}" is not in the ${SPARKPLUG_NAMESPACE} namespace`,
    );
  if (parts[1] === 'STATE') {
    if (parts.length === 3 && SPARKPLUG_ID_PATTERN.test(parts[2] ?? ''))
      return ok({ kind: 'state', hostId: parts[2] ?? '' });
    return fail(
      'sparkplug_topic_invalid',
      `expected ${SPARKPLUG_NAMESPACE}/STATE/{host id}, got "${clip(topic)}"`,
    );
  }
  const [, group = '', verb = '', node = '', device] = parts;
  for (const [what, level] of [
    ['group id', group],
    ['edge node id', node],
  ] as const) {
    if (!SPARKPLUG_ID_PATTERN.test(level))
      return fail(
        'sparkplug_topic_invalid',
        `${what} "${clip(level)}" is empty or holds / + # or control characters`,
      );
  }
  if (NODE_VERBS.has(verb)) {
    if (parts.length !== 4)
      return fail('sparkplug_topic_invalid', `${verb} topics have 4 levels, got ${parts.length}`);
    return ok({ kind: 'node', group, verb: verb as 'NBIRTH', node });
  }
  if (DEVICE_VERBS.has(verb)) {
    if (parts.length !== 5 || !SPARKPLUG_ID_PATTERN.test(device ?? ''))
      return fail(
        'sparkplug_topic_invalid',
        `${verb} topics are ${SPARKPLUG_NAMESPACE}/{group}/${verb}/{edge node}/{device}`,
      );
    return ok({ kind: 'device', group, verb: verb as 'DBIRTH', node, device: device ?? '' });
  }
  return fail(
    'sparkplug_topic_invalid',
    `"${clip(verb)}" is not a Sparkplug verb (${SPARKPLUG_VERBS.join(', ')})`,
  );
}

export function formatSparkplugTopic(topic: SparkplugTopic): string {
  switch (topic.kind) {
    case 'state':
      return `${SPARKPLUG_NAMESPACE}/STATE/${topic.hostId}`;
    case 'node':
      return `${SPARKPLUG_NAMESPACE}/${topic.group}/${topic.verb}/${topic.node}`;
    case 'device':
      return `${SPARKPLUG_NAMESPACE}/${topic.group}/${topic.verb}/${topic.node}/${topic.device}`;
  }
}
