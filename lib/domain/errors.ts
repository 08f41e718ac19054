/** Input that breaks a documented rule; the message names the field and what is wrong. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  readonly code: string;
  constructor(message: string, code = 'invalid_input', options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A thing the caller named does not exist (Error's own constructor keeps a `cause`). */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** The request is understood but breaks a rule that may pass later (a limit, a window). */
export class RefusedError extends Error {
  override name = 'RefusedError';
  readonly code: string;
  /** Epoch ms from which a retry may succeed, when known. */
  readonly retryAt: number | undefined;
  constructor(message: string, code: string, retryAt?: number, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.retryAt = retryAt;
  }
}

/** Meta could not be reached or failed on its side: a 5xx for the operator, worth a retry. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  readonly code: 'meta_unavailable' | 'meta_timeout' | 'meta_error';
  constructor(message: string, code: UpstreamError['code'], options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
