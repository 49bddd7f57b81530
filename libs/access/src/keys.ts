import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * A device key of an enrolment group: `base64url(HMAC-SHA256(groupKey, deviceId))` without
 * padding (43 characters). The HMAC key is the group key's decoded bytes (not its base64 text),
 * the message the device id's UTF-8 bytes. The group key is base64 (standard or url-safe) of at
 * least 32 random bytes. Whoever holds the group key can issue a key for any device id; a device
 * holds only its own.
 */
export function deriveDeviceKey(groupKey: string | Buffer, deviceId: string): string {
  return deviceKeyBytes(groupKey, deviceId).toString('base64url');
}

/** The 32 bytes of a derived device key: HMAC-SHA256(decoded group key, UTF-8 device id). */
export function deviceKeyBytes(groupKey: string | Buffer, deviceId: string): Buffer {
  const key = typeof groupKey === 'string' ? decodeGroupKey(groupKey) : groupKey;
  return createHmac('sha256', key).update(deviceId, 'utf8').digest();
}

/**
 * Whether a presented password is the derived key of `deviceId`, in any of the spellings that
 * standard encoders produce for the same 32 bytes: base64url or standard base64, with or without
 * `=` padding (Java's `Base64.getEncoder()`, Go's `base64.StdEncoding` and Python's
 * `base64.b64encode` pad; RFC 4648 §5 base64url usually does not). Constant time in the
 * comparison of the bytes.
 */
export function derivedKeyMatches(presented: string, groupKey: Buffer, deviceId: string): boolean {
  const bytes = decodeBase64Strict(presented);
  const expected = deviceKeyBytes(groupKey, deviceId);
  return (
    bytes !== undefined && bytes.length === expected.length && timingSafeEqual(bytes, expected)
  );
}

/**
 * The bytes a base64 text spells, or undefined when it is not exactly one canonical spelling:
 * one alphabet (standard `+/` or url-safe `-_`, not mixed), padding absent or complete, no
 * stray bits in the last character (Node's decoder would ignore them and accept 4 spellings of
 * every key).
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const body = text.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(body) && !/^[A-Za-z0-9_-]*$/.test(body)) return undefined;
  if (body.length % 4 === 1) return undefined;
  if (body.length !== text.length && text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(body.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url');
  return bytes.toString('base64url') === body.replace(/\+/g, '-').replace(/\//g, '_')
    ? bytes
    : undefined;
}

/** A new random group key (32 bytes, base64). */
export function newGroupKey(): string {
  return randomBytes(32).toString('base64');
}

/** The bytes of a group key; throws when it is not base64 of ≥ 32 bytes. */
export function decodeGroupKey(groupKey: string): Buffer {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(groupKey))
    throw new Error('a group key must be base64 (standard or url-safe)');
  const bytes = Buffer.from(groupKey.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length < 32) throw new Error(`a group key must hold ≥ 32 bytes, got ${bytes.length}`);
  return bytes;
}

/** scrypt cost parameters of new hashes (N = 2^14: ~50 ms, 16 MiB; OWASP's minimum is 2^17 with p=1 for passwords people pick, device keys are random). */
const SCRYPT = { N: 16_384, r: 8, p: 1, keyLength: 32 } as const;

/** `scrypt$N$r$p$salt$hash` (salt and hash base64url), as the registry stores it. */
export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, SCRYPT.keyLength, {
    N: SCRYPT.N,
    r: SCRYPT.r,
    p: SCRYPT.p,
  });
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

/** Throws when `stored` is not a hash that `hashSecret` could have written. */
export function parseSecretHash(stored: string): {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
} {
  const parts = stored.split('$');
  const [kind, n, r, p, salt, hash] = parts;
  const int = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : NaN);
  const parsed = { N: int(n), r: int(r), p: int(p) };
  if (
    parts.length !== 6 ||
    kind !== 'scrypt' ||
    !Number.isInteger(Math.log2(parsed.N)) ||
    parsed.N < 2 ||
    !(parsed.r > 0) ||
    !(parsed.p > 0) ||
    !salt ||
    !hash
  )
    throw new Error('expected scrypt$N$r$p$salt$hash');
  return { ...parsed, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') };
}

/** Whether `secret` matches a `scrypt$…` hash (constant time in the comparison). */
export function verifySecret(secret: string, stored: string): boolean {
  const h = parseSecretHash(stored);
  const actual = scryptSync(secret, h.salt, h.hash.length, {
    N: h.N,
    r: h.r,
    p: h.p,
    maxmem: 256 * h.N * h.r + 1024 * 1024,
  });
  return timingSafeEqual(actual, h.hash);
}

/** Constant-time comparison of two strings (false when lengths differ). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
