import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  HttpError,
  InfluxDB,
  setLogger,
  type Point,
  type Transport,
} from '@influxdata/influxdb-client';
import type { InfluxConfig } from './config.js';
import {
  META_RETENTION_POLICY,
  RAW_RETENTION_POLICY,
  RETENTION_TIERS,
  continuousQueries,
  isOwnContinuousQuery,
  rpConfigLines,
} from './schema.js';
import { V1CompatTransport } from './v1-transport.js';

// The client logs every failed attempt to the console; the store reports failures as errors to
// its caller, who counts them, so the client's own lines would only repeat them per request.
setLogger({ error: () => undefined, warn: () => undefined });

/** A write InfluxDB did not take. `retriable` = try again later; otherwise the data itself was refused. */
export class InfluxWriteError extends Error {
  override readonly name = 'InfluxWriteError';
  constructor(
    message: string,
    readonly retriable: boolean,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

export class InfluxQueryError extends Error {
  override readonly name = 'InfluxQueryError';
}

export interface InfluxSeries {
  readonly name: string;
  readonly tags?: Record<string, string>;
  readonly columns: string[];
  readonly values: unknown[][];
}

interface QueryResponse {
  results?: { statement_id: number; series?: InfluxSeries[]; error?: string }[];
  error?: string;
}

/**
 * The one place that talks to InfluxDB: batch writes through the client's WriteApi (over the
 * v1-compatible transport or the plain v2 one), InfluxQL queries and a ping.
 */
export class InfluxStore {
  private readonly client: InfluxDB;
  private readonly transport: Transport;
  private readonly agent: HttpAgent;

  constructor(readonly config: InfluxConfig) {
    // Keep-alive: a batch every few milliseconds would otherwise pay a TCP handshake each.
    this.agent = config.url.startsWith('https:')
      ? new HttpsAgent({ keepAlive: true, maxSockets: 8 })
      : new HttpAgent({ keepAlive: true, maxSockets: 8 });
    const base = new InfluxDB({
      url: config.url,
      timeout: config.timeoutMs,
      transportOptions: { agent: this.agent },
      ...(config.api === 'v2' && config.token ? { token: config.token } : {}),
    });
    if (config.api === 'v1') {
      this.transport = new V1CompatTransport(base.transport, {
        username: config.username,
        password: config.password,
      });
      this.client = new InfluxDB({
        url: config.url,
        timeout: config.timeoutMs,
        transport: this.transport,
      });
    } else {
      this.transport = base.transport;
      this.client = base;
    }
  }

  /**
   * Writes the points in one request (ms precision). Resolves once InfluxDB accepted them all;
   * rejects with an InfluxWriteError otherwise. Retrying is the caller's decision: it alone knows
   * which messages wait for this batch.
   */
  async write(points: readonly Point[]): Promise<void> {
    if (points.length === 0) return;
    await this.writeTo(this.config.retentionPolicy, points.length, (api) =>
      api.writePoints(points),
    );
  }

  /** As `write`, for points already in line protocol at millisecond precision (`toLineProtocol`). */
  async writeLines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    // One request with the lines as they are: the WriteApi's buffering would copy and re-split
    // them (its path and errors are the same: the v2 write endpoint, an HttpError).
    const query = new URLSearchParams({
      org: this.config.org,
      bucket: this.bucket(this.config.retentionPolicy),
      precision: 'ms',
    });
    try {
      await this.transport.request(`/api/v2/write?${query.toString()}`, lines.join('\n'), {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        gzipThreshold: this.config.gzipThreshold,
      });
    } catch (error) {
      throw classifyWriteError(error);
    }
  }

  private bucket(retentionPolicy: string): string {
    return this.config.api === 'v1'
      ? `${this.config.database}/${retentionPolicy}`
      : this.config.bucket;
  }

  private async writeTo(
    retentionPolicy: string,
    count: number,
    add: (api: ReturnType<InfluxDB['getWriteApi']>) => void,
  ): Promise<void> {
    const writeApi = this.client.getWriteApi(this.config.org, this.bucket(retentionPolicy), 'ms', {
      batchSize: count + 1,
      maxBatchBytes: Number.POSITIVE_INFINITY,
      flushInterval: 0,
      maxRetries: 0,
      gzipThreshold: this.config.gzipThreshold,
    });
    try {
      add(writeApi);
      await writeApi.flush();
    } catch (error) {
      throw classifyWriteError(error);
    } finally {
      writeApi.dispose();
    }
  }

  /** Runs InfluxQL (on 1.x natively; on 2.x/3.x through the v1 query API and a DBRP mapping). */
  async query(influxql: string, options: { database?: string } = {}): Promise<InfluxSeries[][]> {
    const body = new URLSearchParams({
      q: influxql,
      db: options.database ?? this.config.database,
      epoch: 'ms',
    });
    let response: QueryResponse;
    try {
      response = (await this.transport.request('/query', body.toString(), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
      })) as QueryResponse;
    } catch (error) {
      throw new InfluxQueryError(describe(error));
    }
    if (response?.error) throw new InfluxQueryError(response.error);
    return (response?.results ?? []).map((result) => {
      if (result.error) throw new InfluxQueryError(`${result.error} (in: ${influxql})`);
      return result.series ?? [];
    });
  }

  /** True when InfluxDB answers its ping. */
  async ping(): Promise<boolean> {
    try {
      await this.transport.request('/ping', '', { method: 'GET' });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * v1: creates what is missing of the storage layout (schema.ts) — the database, the retention
   * tiers (raw becomes the default), the roll-up continuous queries (stale ones of ours are
   * dropped) and the `rp_config` rows. Existing retention policies are never altered: their
   * durations belong to the operator. v2 buckets are provisioned outside.
   */
  async ensureDatabase(): Promise<void> {
    if (this.config.api !== 'v1') return;
    const db = quoteIdent(this.config.database);
    await this.query(`CREATE DATABASE ${db}`);
    const [policies = []] = await this.query(`SHOW RETENTION POLICIES ON ${db}`);
    const existing = new Set(
      policies.flatMap((s) => (s.values ?? []).map((row) => String(row[0]))),
    );
    for (const tier of RETENTION_TIERS) {
      if (existing.has(tier.name)) continue;
      const isDefault = tier.name === RAW_RETENTION_POLICY ? ' DEFAULT' : '';
      await this.query(
        `CREATE RETENTION POLICY ${quoteIdent(tier.name)} ON ${db} DURATION ${tier.duration} REPLICATION 1${isDefault}`,
      );
    }
    if (!existing.has(META_RETENTION_POLICY))
      await this.query(
        `CREATE RETENTION POLICY ${quoteIdent(META_RETENTION_POLICY)} ON ${db} DURATION INF REPLICATION 1`,
      );
    const [cqSeries = []] = await this.query('SHOW CONTINUOUS QUERIES');
    const present = new Set(
      cqSeries
        .filter((s) => s.name === this.config.database)
        .flatMap((s) => (s.values ?? []).map((row) => String(row[0]))),
    );
    const wanted = continuousQueries(this.config.database);
    const wantedNames = new Set(wanted.map((cq) => cq.name));
    for (const name of present)
      if (isOwnContinuousQuery(name) && !wantedNames.has(name))
        await this.query(`DROP CONTINUOUS QUERY ${quoteIdent(name)} ON ${db}`);
    for (const cq of wanted) if (!present.has(cq.name)) await this.query(cq.statement);
    const rpConfig = rpConfigLines();
    await this.writeTo(META_RETENTION_POLICY, rpConfig.length, (api) => api.writeRecords(rpConfig));
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Double-quotes an InfluxQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Single-quotes an InfluxQL string literal. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function classifyWriteError(error: unknown): InfluxWriteError {
  if (error instanceof HttpError) {
    // 4xx is about the data — 400 a line refused (parse error, field-type conflict: a partial
    // write on 1.x), 413 too large, 422 (2.x) points refused, e.g. older than the bucket's
    // retention — except 401/403/404/408/429, which are about the database or its configuration
    // (being fixed by an operator): data must wait for those rather than be lost. 5xx: retry.
    const status = error.statusCode;
    const refused = status >= 400 && status < 500 && ![401, 403, 404, 408, 429].includes(status);
    return new InfluxWriteError(
      `InfluxDB ${status}: ${error.body ?? error.message}`,
      !refused,
      status,
    );
  }
  return new InfluxWriteError(describe(error), true);
}

function describe(error: unknown): string {
  if (error instanceof HttpError)
    return `InfluxDB ${error.statusCode}: ${error.body ?? error.message}`;
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
