/**
 * Where Hangar may not change images although the server trusts it: LXD 5.0
 * has no permission query, so a project is known read-only once LXD refused
 * a change there (HTTP 403), until a change there succeeds again.
 */
import { HangarError } from '../../shared/errors.js';

/** "local", or "local (project dev)". */
export const where = (remote: string, project: string | undefined) =>
  project === undefined || project === 'default' ? remote : `${remote} (project ${project})`;

export class ReadOnlyProjects {
  private readonly reasons = new Map<string, string>();

  private static key(remote: string, project: string | undefined): string {
    return JSON.stringify([remote, project ?? 'default']);
  }

  /** Why Hangar may not change images there, when LXD said so. */
  reason(remote: string, project: string | undefined): string | undefined {
    return this.reasons.get(ReadOnlyProjects.key(remote, project));
  }

  /** Runs a change: a 403 marks the project read-only, a success clears that. */
  async write<T>(remote: string, project: string | undefined, work: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (error) {
      this.failed(remote, project, error);
      throw error;
    }
    this.succeeded(remote, project);
    return result;
  }

  /** A change LXD accepted: the project is writable (again). */
  succeeded(remote: string, project: string | undefined): void {
    this.reasons.delete(ReadOnlyProjects.key(remote, project));
  }

  /** A change that failed: remembered when LXD refused it (403). */
  failed(remote: string, project: string | undefined, error: unknown): void {
    const failure = HangarError.from(error);
    if (failure.status !== 403) return;
    this.reasons.set(
      ReadOnlyProjects.key(remote, project),
      `LXD does not let Hangar change images in ${where(remote, project)}: ${failure.message}`,
    );
  }
}
