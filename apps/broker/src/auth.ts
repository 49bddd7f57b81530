import type { AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { AccessControl, AuthResult, Identity } from '@parkpulse/access';
import { Counter, type Registry } from 'prom-client';

const LOG_LINES = 20;
const LOG_WINDOW_MS = 10_000;

/**
 * The broker's side of docs/security.md: Aedes hooks over an AccessControl (the registry).
 * Refusals are counted (by reason) and logged with the client id; they never reach a subscriber.
 */
export class BrokerAuth {
  private readonly identities = new WeakMap<Client, Identity>();
  readonly connectRefused: Counter<'reason'>;
  readonly publishRefused: Counter;
  readonly subscribeRefused: Counter;

  constructor(
    private access: AccessControl,
    registry: Registry,
    private readonly log: (line: string) => void,
  ) {
    this.connectRefused = new Counter({
      name: 'parkpulse_broker_connect_refused_total',
      help: 'CONNECTs refused, by reason (no_credentials, unknown_identity, bad_secret, client_id_mismatch, …)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.publishRefused = new Counter({
      name: 'parkpulse_broker_publish_refused_total',
      help: 'PUBLISHes refused by the ACL (the connection is closed: MQTT 3.1.1 has no negative PUBACK)',
      registers: [registry],
    });
    this.subscribeRefused = new Counter({
      name: 'parkpulse_broker_subscribe_refused_total',
      help: 'Subscriptions refused by the ACL (SUBACK 0x80)',
      registers: [registry],
    });
  }

  /**
   * Swaps the registry (SIGHUP). Connected clients whose identity no longer stands (removed,
   * rights narrowed, key or secret rotated) are disconnected; the others keep their session.
   */
  reload(access: AccessControl, clients: Iterable<Client>): number {
    this.access = access;
    let revoked = 0;
    for (const client of clients) {
      const identity = this.identities.get(client);
      if (!identity || access.stillValid(identity)) continue;
      this.identities.delete(client);
      revoked++;
      this.log(`disconnected ${show(client.id)}: its registry entry changed`);
      client.close();
    }
    return revoked;
  }

  /** Whether a delivery to `client` is within its rights (behind the subscription check). */
  mayReceive(client: Client | null, topic: string): boolean {
    const identity = client ? this.identities.get(client) : undefined;
    return identity !== undefined && this.access.mayReceive(identity, topic);
  }

  /** Refusal log lines in the current window, and how many were left out. */
  private window = { start: 0, lines: 0, skipped: 0 };

  /**
   * Logs a refusal, at most LOG_LINES per LOG_WINDOW_MS: a client retrying bad credentials in
   * a loop must not flood the log (the counters count every one).
   */
  private note(line: string): void {
    const now = Date.now();
    if (now - this.window.start >= LOG_WINDOW_MS) {
      if (this.window.skipped > 0)
        this.log(`… ${this.window.skipped} more refusal(s) not logged in the last window`);
      this.window = { start: now, lines: 0, skipped: 0 };
    }
    if (this.window.lines++ < LOG_LINES) this.log(line);
    else this.window.skipped++;
  }

  /** Totals for the broker's `$SYS` figures. */
  async stats(): Promise<{
    authRefused: number;
    publishRefused: number;
    subscribeRefused: number;
  }> {
    const sum = async (c: Counter<string>) =>
      (await c.get()).values.reduce((total, v) => total + v.value, 0);
    return {
      authRefused: await sum(this.connectRefused),
      publishRefused: await sum(this.publishRefused),
      subscribeRefused: await sum(this.subscribeRefused),
    };
  }

  identityOf(client: Client): Identity | undefined {
    return this.identities.get(client);
  }

  readonly authenticate = (
    client: Client,
    username: Readonly<string> | undefined,
    password: Readonly<Buffer> | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
    /** Common name of a verified client certificate, if the connection presented one. */
    certificateName?: string,
  ): void => {
    const refuse = (returnCode: 2 | 3 | 4 | 5, reason: string, message: string) => {
      this.connectRefused.inc({ reason });
      this.note(
        `refused ${show(client.id)} (user ${show(username ?? '-')}): ${message} [CONNACK ${returnCode}]`,
      );
      done(Object.assign(new Error(message), { returnCode }), false);
    };
    let checked: Promise<AuthResult>;
    try {
      checked =
        certificateName !== undefined && (password === undefined || password.length === 0)
          ? Promise.resolve(
              this.access.authenticateCertificate(client.id, certificateName, username),
            )
          : this.access.authenticate(client.id, username, password);
    } catch (error) {
      checked = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    checked
      .then(
        (result) => {
          if (!result.ok) {
            const { returnCode, reason, message } = result.refusal;
            return refuse(returnCode, reason, message);
          }
          const { identity } = result;
          if (certificateName !== undefined && identity.id !== certificateName)
            return refuse(4, 'certificate_mismatch', 'the certificate belongs to someone else');
          // The will is published in the client's name when it goes: it must be a topic the
          // client may publish on (checked now, so that a stored will never needs checking).
          const will = (client as Client & { _will?: { topic?: string } })._will;
          if (will?.topic !== undefined && !this.access.mayPublish(identity, will.topic))
            return refuse(5, 'will_not_allowed', `last will on "${clip(will.topic)}" not allowed`);
          this.identities.set(client, identity);
          done(null, true);
        },
        (error: Error) => {
          this.note(`authentication of ${show(client.id)} failed: ${error.message}`);
          done(Object.assign(error, { returnCode: 3 as const }), false);
        },
      )
      .catch((error: Error) => this.note(`authentication of ${show(client.id)}: ${error.message}`));
  };

  readonly authorizePublish = (
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void => {
    // No client: Aedes publishing a stored will of a client long gone (its topic was checked
    // when the client connected, see authenticate).
    if (!client) return done(null);
    const identity = this.identities.get(client);
    if (identity && this.access.mayPublish(identity, packet.topic)) return done(null);
    this.publishRefused.inc();
    this.note(`refused publish by ${show(client.id)} on ${show(packet.topic)}: not its topic`);
    done(new Error(`not authorised to publish on ${clip(packet.topic)}`));
  };

  readonly authorizeSubscribe = (
    client: Client | null,
    subscription: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void => {
    const identity = client ? this.identities.get(client) : undefined;
    if (identity && this.access.maySubscribe(identity, subscription.topic))
      return done(null, subscription);
    this.subscribeRefused.inc();
    this.note(`refused subscription of ${show(client?.id ?? '?')} to ${show(subscription.topic)}`);
    // null: a SUBACK failure code (0x80) for this filter; the connection stays up.
    done(null, null);
  };
}

/** Client-chosen text in a log line: quoted and escaped (no line breaks), clipped. */
function show(text: string): string {
  return clip(JSON.stringify(text));
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
