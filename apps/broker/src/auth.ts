import type { AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { AccessControl, Identity } from '@parkpulse/access';
import { Counter, type Registry } from 'prom-client';

/**
 * The broker's side of DESIGN.md "Security": Aedes hooks over an AccessControl (the registry).
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
    /** Whether a client may connect yet (the startup gate); asked after its credentials passed. */
    private readonly admits: (client: Client, identity: Identity) => boolean,
  ) {
    this.connectRefused = new Counter({
      name: 'parkpulse_broker_connect_refused_total',
      help: 'CONNECTs refused, by reason (no_credentials, unknown_identity, bad_secret, client_id_mismatch, starting)',
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

  /** Swaps the registry (SIGHUP); connected clients keep the identity they authenticated with. */
  reload(access: AccessControl): void {
    this.access = access;
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
    const checked =
      certificateName !== undefined && (password === undefined || password.length === 0)
        ? Promise.resolve(this.access.authenticateCertificate(client.id, certificateName, username))
        : this.access.authenticate(client.id, username, password);
    checked.then(
      (result) => {
        if (!result.ok) {
          const { returnCode, reason, message } = result.refusal;
          this.connectRefused.inc({ reason });
          this.log(
            `refused ${client.id} (user ${username ?? '-'}): ${message} [CONNACK ${returnCode}]`,
          );
          return done(Object.assign(new Error(message), { returnCode }), false);
        }
        if (certificateName !== undefined && result.identity.id !== certificateName) {
          this.connectRefused.inc({ reason: 'certificate_mismatch' });
          this.log(
            `refused ${client.id}: certificate of "${certificateName}", credentials of "${result.identity.id}" [CONNACK 4]`,
          );
          return done(
            Object.assign(new Error('the certificate belongs to someone else'), {
              returnCode: 4 as const,
            }),
            false,
          );
        }
        if (!this.admits(client, result.identity)) {
          this.connectRefused.inc({ reason: 'starting' });
          return done(
            Object.assign(new Error('broker starting: waiting for the ingestion session'), {
              returnCode: 3 as const,
            }),
            false,
          );
        }
        this.identities.set(client, result.identity);
        done(null, true);
      },
      (error: Error) => {
        this.log(`authentication of ${client.id} failed: ${error.message}`);
        done(Object.assign(error, { returnCode: 3 as const }), false);
      },
    );
  };

  readonly authorizePublish = (
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void => {
    // No client: Aedes publishing a stored will of a client long gone (authorised when stored).
    if (!client) return done(null);
    const identity = this.identities.get(client);
    if (identity && this.access.mayPublish(identity, packet.topic)) return done(null);
    this.publishRefused.inc();
    this.log(`refused publish by ${client.id} on "${clip(packet.topic)}": not its topic`);
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
    this.log(`refused subscription of ${client?.id ?? '?'} to "${clip(subscription.topic)}"`);
    // null: a SUBACK failure code (0x80) for this filter; the connection stays up.
    done(null, null);
  };
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
