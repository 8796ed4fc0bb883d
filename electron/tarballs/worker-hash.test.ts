import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/**
 * A script (a CLI, a bench) that hashes and inspects files, then has nothing left to do: its
 * process must end, and a digest it awaits with nothing else under way must still arrive.
 */
const SCRIPT = `
const { createStreamHash } = await import(${JSON.stringify(here('./worker-hash.ts'))});
const { inspectingStream } = await import(${JSON.stringify(here('./inspect.ts'))});
const hash = createStreamHash();
hash.update(Buffer.alloc(3 * 1024 * 1024, 7));
console.log(await hash.digest());
hash.dispose();
// A refused file: its inspection's own hash goes with it.
const junk = (async function* () { yield Buffer.alloc(4096, 1); })();
const { stream, result } = inspectingStream(junk, 'unified', { name: 'junk' });
stream.on('error', () => undefined).resume();
console.log(await result.then(() => 'accepted', (error) => error.code));
`;

describe('worker hash', () => {
  it('delivers a digest awaited with nothing else under way, and lets the process end after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hangar-hash-'));
    const script = join(dir, 'script.mjs');
    await writeFile(script, SCRIPT);
    // Killed at the timeout: a process kept alive by an idle worker fails here.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], {
      timeout: 20_000,
    }).finally(() => rm(dir, { recursive: true, force: true }));
    const expected = createHash('sha256')
      .update(Buffer.alloc(3 * 1024 * 1024, 7))
      .digest('hex');
    expect(stdout.trim().split('\n')).toEqual([expected, 'invalid-image']);
  }, 30_000);
});
