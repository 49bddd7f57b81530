import { readFileSync } from 'node:fs';
import { AccessControl } from './acl.js';
import { parseRegistry, type Registry } from './registry.js';

/** Reads and checks a registry file; the error names the file and every problem in it. */
export function loadRegistry(path: string, env: NodeJS.ProcessEnv = process.env): Registry {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`registry: cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parseRegistry(text, env);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

export function loadAccessControl(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): AccessControl {
  return new AccessControl(loadRegistry(path, env));
}
