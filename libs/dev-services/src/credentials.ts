import { resolve } from 'node:path';
import { deriveDeviceKey } from '@parkpulse/access';

/**
 * Dev-only secrets of the local demo and the tests, matching `deploy/registry/registry.yaml`.
 * Published on purpose: never use them on a broker that anything but loopback can reach.
 */
export const DEV_GROUP_KEY = 'cGFya3B1bHNlLWRldi1vbmx5LWdyb3VwLWtleS0wMDE=';

export const DEV_SERVICE_SECRETS = {
  'parkpulse-ingestion': 'dev-only-ingestion-secret',
  'parkpulse-observer': 'dev-only-observer-secret',
  'parkpulse-operator': 'dev-only-operator-secret',
  'parkpulse-operations': 'dev-only-operations-secret',
} as const;

/**
 * Dev-only personal accounts of the operations service (`npm start` creates them): an admin
 * (ADMIN_PASSWORD) and an operator whose token it prints.
 */
export const DEV_OPERATIONS_ACCOUNTS = {
  admin: { username: 'admin', password: 'dev-only-admin-password' },
  operator: { username: 'operator', password: 'dev-only-operator-password' },
  viewer: { username: 'viewer', password: 'dev-only-viewer-password' },
} as const;

export type DevServiceAccount = keyof typeof DEV_SERVICE_SECRETS;

export interface MqttCredentials {
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
}

/** The registry file of the local demo and the tests. */
export function devRegistryFile(root: string): string {
  return resolve(root, 'deploy/registry/registry.yaml');
}

/** The environment both the broker and the ingestion need for the dev registry. */
export function devSecretsEnv(root: string): Record<string, string> {
  return {
    REGISTRY_FILE: devRegistryFile(root),
    PARKPULSE_DEV_GROUP_KEY: DEV_GROUP_KEY,
    PARKPULSE_INGESTION_SECRET: DEV_SERVICE_SECRETS['parkpulse-ingestion'],
    PARKPULSE_OBSERVER_SECRET: DEV_SERVICE_SECRETS['parkpulse-observer'],
    PARKPULSE_OPERATOR_SECRET: DEV_SERVICE_SECRETS['parkpulse-operator'],
    PARKPULSE_OPERATIONS_SECRET: DEV_SERVICE_SECRETS['parkpulse-operations'],
  };
}

/** A device of the dev enrolment group: client id = username = device id, its derived key. */
export function deviceCredentials(deviceId: string): MqttCredentials {
  return {
    clientId: deviceId,
    username: deviceId,
    password: deriveDeviceKey(DEV_GROUP_KEY, deviceId),
  };
}

/**
 * A dev service account; its client id is the account id, or the account id + `-` + `suffix`
 * (several connections of one account).
 */
export function serviceCredentials(account: DevServiceAccount, suffix?: string): MqttCredentials {
  return {
    clientId: suffix ? `${account}-${suffix}` : account,
    username: account,
    password: DEV_SERVICE_SECRETS[account],
  };
}
