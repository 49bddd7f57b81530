import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { CommandCheckCode } from '@parkpulse/telemetry';

/** Why a request could not be done; the HTTP status is chosen at the edge (OperationsErrorFilter). */
export type OperationsErrorCode =
  | 'unauthenticated'
  | 'forbidden'
  | 'bad_credentials'
  | 'invalid_request'
  | 'unknown_device'
  | 'unknown_command_id'
  | 'no_devices'
  | 'selection_too_large'
  | 'not_cancellable'
  | 'user_exists'
  | 'unknown_alarm'
  | 'alarm_action_not_allowed'
  | 'stale_acknowledgement'
  | 'alarm_conflict'
  | 'shelve_too_long'
  | CommandCheckCode;

/** A domain error with a stable code; never an HTTP type inside the services. */
export class OperationsError extends Error {
  override readonly name = 'OperationsError';
  constructor(
    readonly code: OperationsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const STATUS: Record<OperationsErrorCode, number> = {
  unauthenticated: 401,
  bad_credentials: 401,
  forbidden: 403,
  invalid_request: 400,
  params_invalid: 400,
  unknown_device: 404,
  unknown_command_id: 404,
  no_devices: 404,
  selection_too_large: 422,
  unknown_command: 422,
  param_missing: 422,
  param_unknown: 422,
  param_wrong_type: 422,
  param_out_of_range: 422,
  param_not_integer: 422,
  param_not_in_enum: 422,
  not_cancellable: 409,
  user_exists: 409,
  unknown_alarm: 404,
  alarm_action_not_allowed: 409,
  stale_acknowledgement: 409,
  alarm_conflict: 409,
  shelve_too_long: 422,
};

export function statusOf(code: OperationsErrorCode): number {
  return STATUS[code];
}

/** The parts of Express' response this filter uses. */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

/** Every error as `{statusCode, error, message}`: the domain code as `error`. */
@Catch()
export class OperationsErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('Api');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<JsonResponse>();
    if (exception instanceof OperationsError) {
      const statusCode = STATUS[exception.code];
      if (statusCode === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      res
        .status(statusCode)
        .json({ statusCode, error: exception.code, message: exception.message });
      return;
    }
    if (exception instanceof HttpException) {
      // Nest's own: unknown routes (404), bodies that are not JSON (400).
      const statusCode = exception.getStatus();
      res.status(statusCode).json({
        statusCode,
        error: statusCode === 404 ? 'not_found' : 'invalid_request',
        message: exception.message,
      });
      return;
    }
    this.log.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    res.status(500).json({ statusCode: 500, error: 'internal', message: 'internal error' });
  }
}
