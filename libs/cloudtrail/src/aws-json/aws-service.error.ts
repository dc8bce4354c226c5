/**
 * An AWS JSON 1.1 error: sent as `{"__type": code, "message": ...}` with the HTTP status, and
 * `x-amzn-ErrorType: code`, which is where the SDK looks first (reference doc section 3.5).
 */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}
