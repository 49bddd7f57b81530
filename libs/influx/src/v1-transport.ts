import type { CommunicationObserver, SendOptions, Transport } from '@influxdata/influxdb-client';

/**
 * Lets the client's WriteApi talk to InfluxDB 1.x before 1.8 (Debian ships 1.6.7), which has no
 * `/api/v2/write`: the v2 write path is rewritten to `/write?db=&rp=&precision=`; everything
 * else (batch bodies, gzip, HTTP errors, retries) stays the client's own. The bucket the WriteApi
 * is given is `database/retentionPolicy`, as the 1.8 compatibility API spells it.
 */
export class V1CompatTransport implements Transport {
  readonly chunkCombiner: Transport['chunkCombiner'];

  constructor(
    private readonly inner: Transport,
    private readonly auth: { username: string; password: string },
  ) {
    this.chunkCombiner = inner.chunkCombiner;
  }

  send(
    path: string,
    body: string,
    options: SendOptions,
    callbacks?: Partial<CommunicationObserver<Uint8Array>>,
  ): void {
    this.inner.send(toV1Path(path), body, this.withAuth(options), callbacks);
  }

  request(
    path: string,
    body: unknown,
    options: SendOptions,
    responseStarted?: Parameters<Transport['request']>[3],
  ): Promise<unknown> {
    return this.inner.request(
      toV1Path(path),
      body,
      this.withAuth(options),
      responseStarted,
    ) as Promise<unknown>;
  }

  iterate(path: string, body: unknown, options: SendOptions): AsyncIterableIterator<Uint8Array> {
    return this.inner.iterate(toV1Path(path), body, this.withAuth(options));
  }

  private withAuth(options: SendOptions): SendOptions {
    if (!this.auth.username) return options;
    const basic = Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64');
    return { ...options, headers: { ...options.headers, authorization: `Basic ${basic}` } };
  }
}

/** `/api/v2/write?org=o&bucket=db%2Frp&precision=ms` → `/write?db=db&rp=rp&precision=ms`; other paths unchanged. */
export function toV1Path(path: string): string {
  if (!path.startsWith('/api/v2/write?')) return path;
  const query = new URLSearchParams(path.slice('/api/v2/write?'.length));
  const [db = '', rp = ''] = (query.get('bucket') ?? '').split('/');
  const v1 = new URLSearchParams({ db });
  if (rp) v1.set('rp', rp);
  v1.set('precision', query.get('precision') ?? 'ns');
  const consistency = query.get('consistency');
  if (consistency) v1.set('consistency', consistency);
  return `/write?${v1.toString()}`;
}
