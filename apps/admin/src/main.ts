#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { main } from './cli.js';

process.exitCode = main(process.argv.slice(2), {
  env: process.env,
  out: (text) => process.stdout.write(text),
  readStdin: () => readFileSync(0, 'utf8'),
});
