/**
 * Every long action (copy, import, export, launch) is one operation here:
 * its progress, its cancel, its end. They live in the main process for the
 * session, so a reloaded renderer finds them again.
 */
import { randomUUID } from 'node:crypto';
import type { OperationKind, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { EventHub } from '../event-hub.js';

export type OperationProgress = NonNullable<OperationSummary['progress']>;
export type OperationResult = NonNullable<OperationSummary['result']>;

/** A failure that still points at something to open (the image that already exists). */
export class OperationError extends HangarError {
  constructor(
    code: HangarError['code'],
    message: string,
    readonly result: OperationResult,
  ) {
    super(code, message);
  }
}

export interface OperationContext {
  signal: AbortSignal;
  progress: (progress: OperationProgress) => void;
  /** LXD says when its own operation can be cancelled; Hangar's transfers always can. */
  setCancellable: (mayCancel: boolean) => void;
}

export interface OperationSpec {
  kind: OperationKind;
  title: string;
  command: string;
}

/** Progress is sent to the renderer at most this often per operation. */
const PROGRESS_INTERVAL_MS = 100;
/** The session's history is capped so a long session does not grow without end. */
const HISTORY_LIMIT = 200;

interface Running {
  summary: OperationSummary;
  controller: AbortController;
  done: Promise<void>;
  lastSent: number;
  pending: NodeJS.Timeout | undefined;
}

export class Operations {
  private readonly operations = new Map<string, Running>();

  constructor(private readonly hub: EventHub) {}

  /** Starts `run` in the background and returns its summary at once. */
  start(spec: OperationSpec, run: (context: OperationContext) => Promise<OperationResult>) {
    const controller = new AbortController();
    const entry: Running = {
      summary: {
        id: randomUUID(),
        ...spec,
        state: 'running',
        startedAt: new Date().toISOString(),
        mayCancel: true,
      },
      controller,
      done: Promise.resolve(),
      lastSent: 0,
      pending: undefined,
    };
    this.operations.set(entry.summary.id, entry);
    this.trim();
    const context: OperationContext = {
      signal: controller.signal,
      progress: (progress) => {
        if (entry.summary.state !== 'running') return;
        entry.summary = { ...entry.summary, progress };
        this.sendSoon(entry);
      },
      setCancellable: (mayCancel) => {
        if (entry.summary.state !== 'running' || entry.summary.mayCancel === mayCancel) return;
        entry.summary = { ...entry.summary, mayCancel };
        this.send(entry);
      },
    };
    entry.done = run(context).then(
      (result) => this.finish(entry, { state: 'succeeded', result }),
      (error: unknown) => {
        const failure = HangarError.from(error);
        const cancelled = failure.code === 'cancelled' || controller.signal.aborted;
        // An OperationError says what a cancel left done (images already deleted…).
        const partial =
          failure instanceof OperationError && failure.code === 'cancelled' ? failure : undefined;
        this.finish(
          entry,
          cancelled
            ? {
                state: 'cancelled',
                error: (
                  partial ?? new HangarError('cancelled', 'Cancelled; nothing was left behind.')
                ).toData(),
                ...(partial === undefined ? {} : { result: partial.result }),
              }
            : {
                state: 'failed',
                error: failure.toData(),
                ...(failure instanceof OperationError ? { result: failure.result } : {}),
              },
        );
      },
    );
    this.send(entry);
    return entry.summary;
  }

  list(): OperationSummary[] {
    return [...this.operations.values()]
      .map((entry) => entry.summary)
      .sort(
        (a, b) =>
          Number(b.state === 'running') - Number(a.state === 'running') ||
          b.startedAt.localeCompare(a.startedAt),
      );
  }

  cancel(id: string): void {
    const entry = this.operations.get(id);
    if (entry === undefined) throw new HangarError('not-found', 'No such operation.');
    if (entry.summary.state !== 'running') return;
    if (!entry.summary.mayCancel)
      throw new HangarError(
        'invalid-input',
        `LXD cannot cancel "${entry.summary.title}" at this stage; it will end by itself.`,
      );
    entry.controller.abort();
  }

  /** Waits for an operation to end (tests and shutdown). */
  async settled(id: string): Promise<OperationSummary> {
    const entry = this.operations.get(id);
    if (entry === undefined) throw new HangarError('not-found', 'No such operation.');
    await entry.done;
    return entry.summary;
  }

  /** Cancels what is running (Hangar quits) and waits for the cleanups. */
  async close(): Promise<void> {
    const running = [...this.operations.values()].filter((e) => e.summary.state === 'running');
    for (const entry of running) entry.controller.abort();
    await Promise.all(running.map((entry) => entry.done));
  }

  private finish(entry: Running, end: Pick<OperationSummary, 'state' | 'result' | 'error'>): void {
    const { progress, ...rest } = entry.summary;
    entry.summary = {
      ...rest,
      // A finished transfer shows its last byte count; an unfinished one its last stage.
      ...(progress === undefined ? {} : { progress }),
      ...end,
      mayCancel: false,
      endedAt: new Date().toISOString(),
    };
    this.send(entry);
  }

  private sendSoon(entry: Running): void {
    const wait = entry.lastSent + PROGRESS_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      this.send(entry);
      return;
    }
    entry.pending ??= setTimeout(() => this.send(entry), wait);
  }

  private send(entry: Running): void {
    clearTimeout(entry.pending);
    entry.pending = undefined;
    entry.lastSent = Date.now();
    this.hub.emit('operations.changed', { operation: entry.summary });
  }

  private trim(): void {
    const ended = [...this.operations.values()].filter((e) => e.summary.state !== 'running');
    for (const entry of ended.slice(0, Math.max(0, this.operations.size - HISTORY_LIMIT)))
      this.operations.delete(entry.summary.id);
  }
}
