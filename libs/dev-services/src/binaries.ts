import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Finds a server binary: the `envVar` override, the PATH, or Debian's /usr/bin. */
export function findBinary(name: string, envVar: string): string | undefined {
  const candidates = [
    process.env[envVar],
    ...(process.env['PATH'] ?? '').split(delimiter).map((d) => join(d, name)),
    `/usr/bin/${name}`,
  ];
  return candidates.find((c): c is string => !!c && existsSync(c));
}
