import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Caller } from '../accounts/accounts.service.js';
import { Requires, callerOf } from '../accounts/auth.guard.js';
import {
  AcknowledgeRequest,
  AlarmIdParam,
  CommentRequest,
  DeviceIdParam,
  OptionalCommentRequest,
  OutOfServiceRequest,
  ShelveRequest,
  parseRequest,
} from '../api/schemas.js';
import { OperationsError } from '../api/errors.js';
import { Inject } from '@nestjs/common';
import { OPERATIONS_CONFIG, type OperationsConfig } from '../config/operations-config.js';
import { DeviceDirectory } from '../devices/device-directory.service.js';
import { z } from 'zod';
import { ALARM_PRIORITIES, ALARM_STATES } from '@parkpulse/alarms';
import { AlarmEngine } from './alarm-engine.service.js';
import { DeviceState } from './device-state.service.js';
import { StreamTickets } from './stream-tickets.service.js';

const ListQuery = z
  .object({
    state: z.enum(ALARM_STATES).optional(),
    priority: z.enum(ALARM_PRIORITIES).optional(),
    deviceId: z.string().optional(),
    all: z.enum(['true', 'false']).optional(),
  })
  .strict();
const WindowH = z.coerce
  .number()
  .min(0.1)
  .max(24 * 31)
  .default(24);

/** The provisioned dashboards (deploy/grafana) the console links to. */
const DASHBOARDS = [
  { title: 'Parks overview', uid: 'parkpulse-overview' },
  { title: 'Science City', uid: 'parkpulse-science-city' },
  { title: 'Bio Island', uid: 'parkpulse-bio-island' },
  { title: 'Yuzhu', uid: 'parkpulse-yuzhu' },
  { title: 'Knowledge City', uid: 'parkpulse-knowledge-city' },
  { title: 'Device', uid: 'parkpulse-device' },
  { title: 'Platform', uid: 'parkpulse-platform' },
] as const;

interface SseResponse {
  status(code: number): SseResponse;
  setHeader(name: string, value: string): void;
  flushHeaders(): void;
  write(chunk: string): boolean;
  on(event: 'close', listener: () => void): void;
}

/** Thin: parse at the edge, then the engine. */
@Controller('api/v1')
export class AlarmsController {
  constructor(
    private readonly engine: AlarmEngine,
    private readonly tickets: StreamTickets,
    private readonly directory: DeviceDirectory,
    private readonly state: DeviceState,
    @Inject(OPERATIONS_CONFIG) private readonly config: OperationsConfig,
  ) {}

  @Get('alarms')
  @Requires('viewer')
  list(@Query() query: unknown) {
    const q = parseRequest(ListQuery, query);
    return { alarms: this.engine.list({ ...q, all: q.all === 'true' }) };
  }

  @Get('alarms/kpis')
  @Requires('viewer')
  kpis(@Query('windowH') windowH: unknown) {
    return this.engine.kpis(parseRequest(WindowH, windowH));
  }

  @Post('alarms/stream-tickets')
  @Requires('viewer')
  @HttpCode(201)
  ticket(@Req() req: { caller?: Caller }) {
    const t = this.tickets.issue(callerOf(req));
    return { ticket: t.ticket, expiresAt: new Date(t.expiresAt).toISOString() };
  }

  /** Server-Sent Events: `alarm` with the alarm as JSON on every change; a comment every 15 s. */
  @Get('alarms/stream')
  stream(@Query('ticket') ticket: unknown, @Res() res: SseResponse) {
    this.tickets.redeem(ticket);
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 2000\n: connected\n\n');
    const stop = this.engine.onChange((alarm) => {
      res.write(`event: alarm\ndata: ${JSON.stringify(alarm)}\n\n`);
    });
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(beat);
      stop();
    });
  }

  @Get('alarm-definitions')
  @Requires('viewer')
  definitions() {
    return { definitions: this.engine.definitions };
  }

  @Get('alarms/:id')
  @Requires('viewer')
  get(@Param('id') id: string) {
    return this.engine.get(parseRequest(AlarmIdParam, id));
  }

  @Post('alarms/:id/acknowledge')
  @Requires('operator')
  @HttpCode(200)
  acknowledge(@Req() req: { caller?: Caller }, @Param('id') id: string, @Body() body: unknown) {
    const caller = callerOf(req);
    const alarm = parseRequest(AlarmIdParam, id);
    const b = parseRequest(AcknowledgeRequest, body ?? {});
    return this.engine.acknowledge(alarm, caller.username, b.comment ?? '', b.activation);
  }

  @Post('alarms/:id/shelve')
  @Requires('operator')
  @HttpCode(200)
  shelve(@Req() req: { caller?: Caller }, @Param('id') id: string, @Body() body: unknown) {
    const caller = callerOf(req);
    const alarm = parseRequest(AlarmIdParam, id);
    const b = parseRequest(ShelveRequest, body);
    return this.engine.shelve(alarm, caller.username, b.reason, b.durationS);
  }

  @Post('alarms/:id/unshelve')
  @Requires('operator')
  @HttpCode(200)
  unshelve(@Req() req: { caller?: Caller }, @Param('id') id: string, @Body() body: unknown) {
    const caller = callerOf(req);
    const b = parseRequest(OptionalCommentRequest, body ?? {});
    return this.engine.unshelve(parseRequest(AlarmIdParam, id), caller.username, b.comment ?? '');
  }

  @Post('alarms/:id/comments')
  @Requires('operator')
  @HttpCode(201)
  comment(@Req() req: { caller?: Caller }, @Param('id') id: string, @Body() body: unknown) {
    const caller = callerOf(req);
    const b = parseRequest(CommentRequest, body);
    return this.engine.comment(parseRequest(AlarmIdParam, id), caller.username, b.comment);
  }

  @Post('alarms/:id/out-of-service')
  @Requires('admin')
  @HttpCode(200)
  outOfService(@Req() req: { caller?: Caller }, @Param('id') id: string, @Body() body: unknown) {
    const caller = callerOf(req);
    const b = parseRequest(OutOfServiceRequest, body);
    return this.engine.removeFromService(parseRequest(AlarmIdParam, id), caller.username, b.reason);
  }

  @Post('alarms/:id/return-to-service')
  @Requires('admin')
  @HttpCode(200)
  returnToService(@Req() req: { caller?: Caller }, @Param('id') id: string, @Body() body: unknown) {
    const caller = callerOf(req);
    const b = parseRequest(OptionalCommentRequest, body ?? {});
    return this.engine.returnToService(
      parseRequest(AlarmIdParam, id),
      caller.username,
      b.comment ?? '',
    );
  }

  @Get('devices/:deviceId')
  @Requires('viewer')
  async device(@Param('deviceId') deviceId: string) {
    const id = parseRequest(DeviceIdParam, deviceId);
    const presence = this.directory.get(id);
    const snapshot = this.state.get(id);
    const where = presence ?? snapshot;
    if (!where) throw new OperationsError('unknown_device', `no device ${id} has announced itself`);
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      park: where.park,
      site: where.site,
      assetType: where.assetType,
      deviceId: id,
      online: presence ? presence.online : null,
      since: presence ? iso(presence.since) : null,
      values: Object.fromEntries(
        Object.entries(snapshot?.values ?? {})
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, { value: v.value, at: iso(v.at) }]),
      ),
      events: (snapshot?.events ?? []).map((e) => ({ ...e, at: iso(e.at) })),
      alarms: this.engine.list({ deviceId: id, all: true }),
      alarmHistory: await this.engine.deviceHistory(id, 50),
    };
  }

  @Get('console/config')
  @Requires('viewer')
  consoleConfig() {
    const g = this.config.grafanaUrl;
    return {
      grafanaUrl: g,
      dashboards: DASHBOARDS.map((d) => ({ title: d.title, url: `${g}/d/${d.uid}` })),
      shelveMaxS: this.config.alarms.shelveMaxS,
    };
  }
}
