#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from './openapi.js';

/** Writes apps/operations/openapi.json (from dist/api/: two levels up is the project). */
const file = join(import.meta.dirname, '..', '..', 'openapi.json');
writeFileSync(file, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`wrote ${file}`);
