/** How to reach InfluxDB. `v1`: the 1.x `/write` + `/query` API (1.6+); `v2`: `/api/v2/write` (1.8+, 2.x, 3.x). */
export type InfluxApi = 'v1' | 'v2';

export interface InfluxConfig {
  readonly url: string;
  readonly api: InfluxApi;
  /** v1: database; v2: the database the bucket is mapped to (DBRP) for InfluxQL queries. */
  readonly database: string;
  /** v1: retention policy to write into ('' = the database's default). */
  readonly retentionPolicy: string;
  /** v1 credentials (sent as HTTP basic auth); empty when auth is off. */
  readonly username: string;
  readonly password: string;
  /** v2: API token, organisation and bucket. */
  readonly token: string;
  readonly org: string;
  readonly bucket: string;
  /** HTTP timeout of one request, ms. */
  readonly timeoutMs: number;
  /** Write bodies larger than this many bytes are gzipped. */
  readonly gzipThreshold: number;
}

export const DEFAULT_INFLUX_CONFIG: InfluxConfig = {
  url: 'http://127.0.0.1:8086',
  api: 'v1',
  database: 'telemetry',
  retentionPolicy: '',
  username: '',
  password: '',
  token: '',
  org: 'parkpulse',
  bucket: 'telemetry',
  timeoutMs: 10_000,
  gzipThreshold: 64 * 1024,
};
