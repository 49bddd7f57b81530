import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RequestMethod } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { ROLE_KEY } from '../accounts/auth.guard.js';
import { describe, expect, it } from 'vitest';
import { AccountsController } from '../accounts/accounts.controller.js';
import { AlarmsController } from '../alarms/alarms.controller.js';
import { CommandsController } from '../commands/commands.controller.js';
import { DevicesController } from '../devices/devices.controller.js';
import { HealthController } from '../health/health.controller.js';
import { OPERATIONS, openApiDocument } from './openapi.js';

const FILE = join(import.meta.dirname, '..', '..', 'openapi.json');

/**
 * The routes Nest serves, read from the controllers' decorators, with the role they require and
 * the status they answer with: `get /api/v1/commands/{id} viewer 200`.
 */
function servedRoutes(): string[] {
  const routes: string[] = [];
  for (const controller of [
    AccountsController,
    AlarmsController,
    CommandsController,
    DevicesController,
    HealthController,
  ]) {
    const base = (Reflect.getMetadata('path', controller) as string).replace(/^\/|\/$/g, '');
    for (const key of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as unknown as Record<string, unknown>)[key];
      if (typeof handler !== 'function' || key === 'constructor') continue;
      const path = Reflect.getMetadata('path', handler) as string | undefined;
      const method = Reflect.getMetadata('method', handler) as RequestMethod | undefined;
      if (path === undefined || method === undefined) continue;
      const full = `/${[base, path.replace(/^\//, '')].filter(Boolean).join('/')}`.replace(
        /:(\w+)/g,
        '{$1}',
      );
      const role =
        (Reflect.getMetadata(ROLE_KEY, handler) as string | undefined) ??
        (Reflect.getMetadata(ROLE_KEY, controller) as string | undefined) ??
        'public';
      const status =
        (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ??
        (method === RequestMethod.POST ? 201 : 200);
      routes.push(`${RequestMethod[method].toLowerCase()} ${full} ${role} ${status}`);
    }
  }
  return routes.sort();
}

describe('OpenAPI document', () => {
  it('describes exactly the routes the controllers serve, with their roles and statuses', () => {
    expect(servedRoutes()).toEqual(
      OPERATIONS.map((o) => `${o.method} ${o.path} ${o.role ?? 'public'} ${o.status}`).sort(),
    );
  });

  it('is committed as the code generates it (regenerate: npm run openapi)', () => {
    const committed = readFileSync(FILE, 'utf8');
    expect(committed).toBe(`${JSON.stringify(openApiDocument(), null, 2)}\n`);
  });
});
