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
    const bucket =
      this.config.api === 'v1'
        ? `${this.config.database}/${this.config.retentionPolicy}`
        : this.config.bucket;
    const writeApi = this.client.getWriteApi(this.config.org, bucket, 'ms', {
      batchSize: points.length + 1,
      maxBatchBytes: Number.POSITIVE_INFINITY,
      flushInterval: 0,
      maxRetries: 0,
      gzipThreshold: this.config.gzipThreshold,
    });
    try {
      writeApi.writePoints(points);
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

  /** v1: creates the database when missing (idempotent); v2 buckets are provisioned outside. */
  async ensureDatabase(): Promise<void> {
    if (this.config.api !== 'v1') return;
    await this.query(`CREATE DATABASE ${quoteIdent(this.config.database)}`);
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
