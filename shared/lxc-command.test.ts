import { describe, expect, it } from 'vitest';
import {
  copyCommand,
  exportCommand,
  importCommand,
  launchCommand,
  shellQuote,
} from './lxc-command.js';

describe('lxc command lines', () => {
  it('quotes only what the shell would split or expand', () => {
    expect(shellQuote('images:debian/12')).toBe('images:debian/12');
    expect(shellQuote('my image')).toBe("'my image'");
    expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
    expect(shellQuote('')).toBe("''");
  });

  it('copies with every option lxc image copy has', () => {
    expect(
      copyCommand({
        source: { remote: 'second', image: 'fixture/split', project: 'default' },
        target: { remote: 'local', project: 'dev' },
        aliases: ['a', 'b c'],
        copyAliases: true,
        autoUpdate: true,
        public: true,
      }),
    ).toBe(
      "lxc image copy second:fixture/split local: --alias a --alias 'b c' --copy-aliases --auto-update --public --target-project dev",
    );
    expect(
      copyCommand({
        source: { remote: 'images', image: 'debian/12' },
        target: { remote: 'local' },
        aliases: [],
        copyAliases: false,
        autoUpdate: false,
        public: false,
      }),
    ).toBe('lxc image copy images:debian/12 local:');
  });

  it('imports, exports and launches', () => {
    expect(
      importCommand({
        remote: 'local',
        files: ['/tmp/meta.tar.xz', '/tmp/root fs.squashfs'],
        aliases: ['x'],
        public: false,
        properties: { os: 'Debian', description: 'my one' },
        project: 'dev',
      }),
    ).toBe(
      "lxc image import /tmp/meta.tar.xz '/tmp/root fs.squashfs' local: --alias x --project dev os=Debian 'description=my one'",
    );
    expect(
      exportCommand({ remote: 'local', fingerprint: 'abc', directory: '/home/me/Downloads' }),
    ).toBe('lxc image export local:abc /home/me/Downloads/');
    expect(
      launchCommand({
        source: { remote: 'images', image: 'alpine/3.20' },
        target: { remote: 'local' },
        name: 'c1',
        vm: false,
        ephemeral: true,
        profiles: ['default', 'big'],
        start: false,
      }),
    ).toBe('lxc init images:alpine/3.20 local:c1 --ephemeral --profile default --profile big');
  });
});
