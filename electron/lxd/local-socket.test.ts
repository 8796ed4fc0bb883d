import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findLocalSocket, localSocketCandidates, localSocketHint } from './local-socket.js';

const dir = await mkdtemp(join(tmpdir(), 'hangar-socket-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('finding the local LXD socket like lxc', () => {
  it('uses only $LXD_DIR/unix.socket when LXD_DIR is set', () => {
    expect(localSocketCandidates({ LXD_DIR: '/srv/lxd' })).toEqual(['/srv/lxd/unix.socket']);
  });

  it('prefers LXD_SOCKET over LXD_DIR', () => {
    expect(localSocketCandidates({ LXD_SOCKET: '/run/x.sock', LXD_DIR: '/srv/lxd' })).toEqual([
      '/run/x.sock',
    ]);
  });

  it('looks at the snap, then the package, then Incus', () => {
    expect(localSocketCandidates({})).toEqual([
      '/var/snap/lxd/common/lxd/unix.socket',
      '/var/lib/lxd/unix.socket',
      '/var/lib/incus/unix.socket',
    ]);
  });

  it('finds a socket that exists, and not a plain file', async () => {
    expect(findLocalSocket({ LXD_DIR: dir })).toEqual({
      found: undefined,
      tried: [join(dir, 'unix.socket')],
    });
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, 'unix.socket'), resolve));
    try {
      expect(findLocalSocket({ LXD_DIR: dir }).found).toBe(join(dir, 'unix.socket'));
    } finally {
      server.close();
    }
  });

  it('gives a hint that fits the failure', () => {
    const missing = localSocketHint({ found: undefined, tried: ['/x'] }, undefined);
    expect(missing).toMatch(/apt install lxd/);
    const denied = localSocketHint({ found: '/var/lib/lxd/unix.socket', tried: [] }, 'EACCES');
    expect(denied).toMatch(/usermod -aG lxd/);
    const down = localSocketHint({ found: '/var/lib/lxd/unix.socket', tried: [] }, 'ECONNREFUSED');
    expect(down).toMatch(/not answering/);
  });
});
