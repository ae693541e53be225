/** An error a transport throws for a failed attempt; `code` becomes the `DeliveryResult` error code. */
export class TransportError extends Error {
  override name = 'TransportError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
