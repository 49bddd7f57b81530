import { barGauge, stat, table, timeseries } from '../panels.js';
import { influxql, raw } from '../query.js';
import { UID, board, deviceLink } from './common.js';

const INGEST = raw('platform_ingestion');
const BROKER = raw('platform_broker');

export function platformHealth() {
  const { dashboard, layout } = board(
    UID.platform,
    'ParkPulse — platform health',
    'The pipeline itself: ingest rate, write latency, batch sizes, the disk spool, rejects by reason, messages waiting for storage, broker clients.',
    ['platform'],
  );
  dashboard.time({ from: 'now-1h', to: 'now' }).refresh('10s');
  layout
    .section('Ingestion')
    .add(
      timeseries({
        title: 'Ingest rate',
        description: 'Messages taken in and points written per second, per ingestion instance.',
        unit: 'short',
        targets: influxql(`
          SELECT sum("messages_in") / sum("interval_s") AS "messages/s",
                 sum("points_written") / sum("interval_s") AS "points/s"
          FROM ${INGEST} WHERE $timeFilter GROUP BY time($__interval), "instance" fill(none)`).alias(
          '$tag_instance $col',
        ),
      }),
      12,
    )
    .add(
      timeseries({
        title: 'Write latency',
        description:
          'Time from a message’s arrival to InfluxDB accepting its points (p50, p99 per 10 s).',
        unit: 'ms',
        targets: influxql(`
          SELECT max("write_latency_p50_ms") AS "p50", max("write_latency_p99_ms") AS "p99"
          FROM ${INGEST} WHERE $timeFilter GROUP BY time($__interval), "instance" fill(none)`).alias(
          '$tag_instance $col',
        ),
      }),
      12,
    )
    .add(
      timeseries({
        title: 'Batch size',
        description: 'Points per InfluxDB write request.',
        unit: 'short',
        targets: influxql(`
          SELECT sum("points_written") / sum("batches") AS "points per batch"
          FROM ${INGEST} WHERE $timeFilter GROUP BY time($__interval), "instance" fill(none)`).alias(
          '$tag_instance',
        ),
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Waiting for storage',
        description:
          'Messages received but not yet stored (held unacknowledged, so the broker keeps them). Above the back-pressure limit the ingestion stops reading.',
        unit: 'short',
        targets: influxql(`
          SELECT max("pending_messages") AS "pending" FROM ${INGEST}
          WHERE $timeFilter GROUP BY time($__interval), "instance" fill(none)`).alias(
          '$tag_instance',
        ),
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Write errors',
        description: 'Failed InfluxDB writes (each retried; nothing is lost).',
        unit: 'short',
        targets: influxql(`
          SELECT sum("write_errors") AS "errors" FROM ${INGEST}
          WHERE $timeFilter GROUP BY time($__interval), "instance" fill(0)`).alias('$tag_instance'),
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Disk spool',
        description:
          'Bytes in the ingestion’s disk spool: points acknowledged while InfluxDB was failing, waiting to be replayed. At SPOOL_MAX_BYTES the ingestion stops acknowledging (back-pressure).',
        unit: 'bytes',
        targets: influxql(`
          SELECT max("spool_bytes") AS "spool" FROM ${INGEST}
          WHERE $timeFilter GROUP BY time($__interval), "instance" fill(none)`).alias(
          '$tag_instance',
        ),
      }),
      12,
    )
    .add(
      timeseries({
        title: 'Spooled and replayed',
        description:
          'Points written to the disk spool, and replayed from it into InfluxDB, per second.',
        unit: 'short',
        targets: influxql(`
          SELECT sum("points_spooled") / sum("interval_s") AS "spooled/s",
                 sum("points_replayed") / sum("interval_s") AS "replayed/s"
          FROM ${INGEST} WHERE $timeFilter GROUP BY time($__interval), "instance" fill(none)`).alias(
          '$tag_instance $col',
        ),
      }),
      12,
    )
    .section('Rejects')
    .add(
      timeseries({
        title: 'Rejects by reason',
        description:
          'Dead letters and dropped fields per interval, by reason (see the telemetry contract).',
        unit: 'short',
        targets: influxql(`
          SELECT count("topic") AS "rejects" FROM "ingest_reject"
          WHERE $timeFilter GROUP BY time($__interval), "reason" fill(none)`).alias('$tag_reason'),
      }),
      12,
    )
    .add(
      barGauge({
        title: 'Rejects by park',
        description: 'Dead letters and dropped fields over the time range, by park.',
        unit: 'short',
        targets: influxql(`
          SELECT count("topic") AS "rejects" FROM "ingest_reject" WHERE $timeFilter GROUP BY "park"`).alias(
          '$tag_park',
        ),
      }),
      12,
    )
    .section('Delivery completeness (ledger)')
    .add(
      timeseries({
        title: 'Missing samples',
        description:
          'Sequence numbers skipped by devices and not received since (the delivery ledger, from each sample’s seq), summed over all devices.',
        unit: 'short',
        targets: influxql(`
          SELECT sum("m") AS "missing" FROM (
            SELECT last("missing") AS "m" FROM "device_ledger"
            WHERE $timeFilter GROUP BY time($__interval), "device" fill(none))
          GROUP BY time($__interval) fill(none)`),
      }),
      8,
    )
    .add(
      table({
        title: 'Completeness per device',
        description:
          'Per device: share of its sequence numbers stored, open gaps, duplicates (redeliveries), counter restarts, clock regressions (samples refused: a newer seq at a time not after the newest, see the telemetry contract) and device-time → stored lag (p99), least complete first.',
        links: [deviceLink(true)],
        targets: influxql(`
          SELECT last("completeness") AS "completeness", last("missing") AS "missing",
                 last("duplicates") AS "duplicates", last("resets") AS "resets",
                 last("clock_regressions") AS "clock regressions",
                 last("lag_p99_ms") AS "lag p99 ms"
          FROM "device_ledger" WHERE $timeFilter GROUP BY "park", "site", "device"`).table(),
      }),
      16,
    )
    .section('Broker')
    .add(
      stat({
        title: 'Connected clients',
        description: 'MQTT clients connected to each broker now.',
        unit: 'short',
        graph: true,
        steps: [{ value: null, color: 'blue' }],
        targets: influxql(`
          SELECT last("clients") FROM ${BROKER} WHERE $timeFilter GROUP BY time($__interval), "broker" fill(none)`).alias(
          '$tag_broker',
        ),
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Broker throughput',
        description:
          'Messages in (from publishers) and out (to subscribers) per second, per broker.',
        unit: 'short',
        targets: influxql(`
          SELECT sum("messages_in") / sum("interval_s") AS "in/s",
                 sum("messages_out") / sum("interval_s") AS "out/s"
          FROM ${BROKER} WHERE $timeFilter GROUP BY time($__interval), "broker" fill(none)`).alias(
          '$tag_broker $col',
        ),
      }),
      16,
    );
  return dashboard;
}
