/**
 * Typed errors thrown by the core. One error middleware maps them to each
 * face's error body, so no handler needs a try/catch.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'too_large'
  | 'unsupported_media_type'
  | 'throttled'
  | 'internal'
  | 'unavailable';

export const STATUS_OF: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  too_large: 413,
  unsupported_media_type: 415,
  throttled: 429,
  internal: 500,
  unavailable: 503,
};

export interface ErrorDetail {
  path: string;
  message: string;
}

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly details?: ErrorDetail[];

  constructor(code: ErrorCode, message: string, details?: ErrorDetail[]) {
    super(message);
    this.name = 'SluiceError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return STATUS_OF[this.code];
  }
}

export const invalid = (message: string, details?: ErrorDetail[]) => new SluiceError('invalid_request', message, details);
export const unauthorized = (message = 'A valid API key is required') => new SluiceError('unauthorized', message);
export const forbidden = (message: string) => new SluiceError('forbidden', message);
export const notFound = (what: string) => new SluiceError('not_found', `${what} was not found`);
export const conflict = (message: string) => new SluiceError('conflict', message);
export const preconditionFailed = (message: string) => new SluiceError('precondition_failed', message);
export const tooLarge = (message: string) => new SluiceError('too_large', message);
export const unsupportedMediaType = (message: string) => new SluiceError('unsupported_media_type', message);
export const unavailable = (message: string) => new SluiceError('unavailable', message);

export function isSluiceError(error: unknown): error is SluiceError {
  return error instanceof SluiceError;
}
