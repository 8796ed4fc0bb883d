/**
 * "Update available": for every image of a remote and project that has an
 * update source, whether the source's alias names another image now. One
 * question per distinct source (server, protocol, alias, architecture,
 * type), a few at a time, each time-limited. Answers are not kept: a user
 * who presses Refresh sees what the source says now (catalogs are still
 * revalidated, not fetched again); a failure is kept a while, so a dead
 * server is not waited on at every list load. One bad source never fails the
 * check: its images are reported as unknown, with the reason.
 */
import type { ImageUpdates } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import { LxdConnection } from '../remotes/lxd-connection.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { SourceCatalogs, latestFromLxd, type UpdateSource } from './update-sources.js';

export interface UpdateCheckOptions {
  /** How long a source's failure is reused (a question in flight is always shared). Default 60 s. */
  cacheMs?: number;
  /** How long one source may take to answer. Default 10 s. */
  timeoutMs?: number;
  /** Sources asked at once. Default 4. */
  concurrency?: number;
}

type Answer = { latest: string } | { reason: string };

/** Runs at most `limit` tasks at once, the others in order of arrival. */
function limiter(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A task that ends hands its place to the next one waiting, so no newcomer slips in between.
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next === undefined) running--;
      else next();
    }
  };
}

/** `work` with a signal that aborts after `ms`; gives up at that time whatever `work` does. */
async function within<T>(
  ms: number,
  server: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new HangarError('lxd-unreachable', `${server} did not answer within ${ms / 1000} s.`));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Copied by fingerprint (lxc does so for private images): that image never changes. */
const namesItself = (image: LxdImage, alias: string) =>
  alias === '' || image.fingerprint.startsWith(alias);

function sourceOf(image: LxdImage): UpdateSource | undefined {
  const source = image.update_source;
  if (source === undefined || source.server === '' || namesItself(image, source.alias))
    return undefined;
  return {
    server: source.server,
    protocol: source.protocol,
    alias: source.alias,
    architecture: image.architecture,
    type: image.type,
    certificate: source.certificate,
  };
}

const keyOf = (source: UpdateSource) =>
  [source.server, source.protocol, source.alias, source.architecture, source.type].join('\0');

export class UpdateChecker {
  private readonly answers = new Map<string, { until: number; answer: Promise<Answer> }>();
  private readonly catalogs: SourceCatalogs;
  private readonly limit: ReturnType<typeof limiter>;
  private readonly cacheMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly remotes: RemoteRegistry,
    options: UpdateCheckOptions = {},
  ) {
    this.catalogs = new SourceCatalogs(remotes);
    this.cacheMs = options.cacheMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.limit = limiter(options.concurrency ?? 4);
  }

  async check(remote: string, project: string | undefined): Promise<ImageUpdates> {
    const connection = this.remotes.connection(remote);
    const checkedAt = new Date().toISOString();
    // A simplestreams remote's images have no sources: they are the sources.
    if (!(connection instanceof LxdConnection)) return { updates: [], unknown: [], checkedAt };
    const images = await connection.listImages(project);
    const result: ImageUpdates = { updates: [], unknown: [], checkedAt };
    // One question per source, however many images came from it.
    const questions = new Map<string, Promise<Answer>>();
    const asked = images.flatMap((image) => {
      const source = sourceOf(image);
      if (source === undefined) return [];
      const key = keyOf(source);
      let answer = questions.get(key);
      if (answer === undefined) questions.set(key, (answer = this.ask(key, source)));
      return [{ image, answer }];
    });
    for (const { image, answer } of asked) {
      const answered = await answer;
      if ('reason' in answered)
        result.unknown.push({ fingerprint: image.fingerprint, reason: answered.reason });
      else if (answered.latest !== image.fingerprint)
        result.updates.push({ fingerprint: image.fingerprint, latest: answered.latest });
    }
    return result;
  }

  private ask(key: string, source: UpdateSource): Promise<Answer> {
    const now = Date.now();
    for (const [old, kept] of this.answers) if (kept.until <= now) this.answers.delete(old);
    const kept = this.answers.get(key);
    if (kept !== undefined) return kept.answer;
    const answer = this.limit(() =>
      within(this.timeoutMs, source.server, (signal) => this.latest(source, signal)),
    ).then(
      (latest): Answer => ({ latest }),
      (error: unknown): Answer => ({ reason: HangarError.from(error).message }),
    );
    // Shared while in flight; then a failure is kept from when it was asked, an answer not at all.
    this.answers.set(key, { until: Infinity, answer });
    void answer.then((settled) => {
      if (this.answers.get(key)?.answer !== answer) return;
      if ('reason' in settled) this.answers.set(key, { until: now + this.cacheMs, answer });
      else this.answers.delete(key);
    });
    return answer;
  }

  private latest(source: UpdateSource, signal: AbortSignal): Promise<string> {
    switch (source.protocol) {
      case 'lxd':
        return latestFromLxd(this.remotes, source, signal);
      case 'simplestreams':
        return this.catalogs.latest(source, signal);
      default:
        return Promise.reject(
          new HangarError(
            'invalid-input',
            `Hangar cannot ask a "${source.protocol}" server for updates.`,
          ),
        );
    }
  }

  close(): Promise<void> {
    return this.catalogs.close();
  }
}
