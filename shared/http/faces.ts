import type { SluiceError } from '../model/errors.ts';

export type Face = 'native' | 'domo' | 'sds' | 'dbconvert';

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Each face's error body, as its vendor's clients expect it (API.md "Errors"). */
export function errorBody(face: Face, error: SluiceError, requestId: string): unknown {
  switch (face) {
    case 'dbconvert':
      return { error: error.message };
    case 'sds':
      return { reason: error.message };
    case 'domo':
      return { status: error.status, statusReason: REASON[error.status] ?? 'Error', message: error.message, toe: requestId };
    case 'native':
      return {
        error: { code: error.code, message: error.message, requestId, ...(error.details?.length ? { details: error.details } : {}) },
      };
  }
}
