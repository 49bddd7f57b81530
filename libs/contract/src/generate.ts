import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SCHEMA_DIR, generateSchemas } from './schemas.js';

function schemaFilesOnDisk(root: string): string[] {
  const dir = join(root, SCHEMA_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => join(SCHEMA_DIR, f));
}

/** Schema files whose content differs from what the code generates, plus stale ones. */
export function outdatedSchemas(root: string): string[] {
  const files = generateSchemas();
  const stale = schemaFilesOnDisk(root).filter((f) => !files.has(f));
  const differ = [...files].filter(([path, content]) => {
    const full = join(root, path);
    return !existsSync(full) || readFileSync(full, 'utf8') !== content;
  });
  return [...differ.map(([path]) => path), ...stale];
}

/** Writes every schema file and removes the ones the catalogue no longer makes. */
export function writeSchemas(root: string): string[] {
  const files = generateSchemas();
  for (const stale of schemaFilesOnDisk(root).filter((f) => !files.has(f)))
    rmSync(join(root, stale));
  const written: string[] = [];
  for (const [path, content] of files) {
    const full = join(root, path);
    if (existsSync(full) && readFileSync(full, 'utf8') === content) continue;
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    written.push(path);
  }
  return written;
}
