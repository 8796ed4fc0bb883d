/**
 * The one error type that crosses from the main process to the renderer.
 * `message` is written for the user; `code` lets the UI pick a screen.
 */
export type ErrorCode =
  | 'invalid-input' // a call's input failed its schema
  | 'unknown-call'
  | 'unknown-remote'
  | 'lxd-unreachable' // no socket, permission denied, daemon down
  | 'lxd-error' // LXD answered with an error; its message is kept
  | 'not-found'
  | 'certificate-changed' // a pinned server now presents another certificate
  | 'not-trusted' // the server does not (or no longer) trust Hangar's certificate
  | 'conflict' // a name already taken
  | 'outdated' // it changed since it was read (LXD answered 412 to If-Match)
  | 'invalid-image' // a file that is not an LXD image, or an unsafe one
  | 'bad-request' // a request Hangar built that could not be sent (a bug in Hangar, not LXD's answer)
  | 'cancelled'
  | 'internal';

export interface HangarErrorData {
  code: ErrorCode;
  message: string;
  /** HTTP status LXD answered with, when it did. */
  status?: number;
}

export class HangarError extends Error implements HangarErrorData {
  readonly code: ErrorCode;
  readonly status?: number;

  constructor(code: ErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HangarError';
    this.code = code;
    if (options?.status !== undefined) this.status = options.status;
  }

  toData(): HangarErrorData {
    return this.status === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, status: this.status };
  }

  static fromData(data: HangarErrorData): HangarError {
    return new HangarError(data.code, data.message, { status: data.status });
  }

  /** Anything thrown becomes a HangarError; unexpected ones keep their message. */
  static from(error: unknown): HangarError {
    if (error instanceof HangarError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new HangarError('internal', message, { cause: error });
  }
}

/** What every call returns over IPC or the bridge: errors are values, not rejections. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: HangarErrorData };
