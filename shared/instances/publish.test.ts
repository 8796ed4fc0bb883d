import { describe, expect, it } from 'vitest';
import { publishCommand } from './publish.js';

describe('publishCommand', () => {
  const base = {
    source: { remote: 'local', project: 'dev', instance: 'c1' },
    target: { remote: 'local', project: 'dev' },
    aliases: [],
    public: false,
    properties: {},
    force: false,
  };
  it('writes lxc publish with its flags and key=value properties', () => {
    expect(
      publishCommand({
        ...base,
        aliases: ['a/b'],
        public: true,
        compression: 'xz',
        expiresAt: '2030-01-01T00:00:00Z',
        force: true,
        properties: { description: 'my image' },
      }),
    ).toBe(
      "lxc publish local:c1 local: --alias a/b --public --compression xz --expire 2030-01-01T00:00:00Z --force --project dev 'description=my image'",
    );
  });
  it('has no --force for a snapshot, and says when the target project differs', () => {
    expect(
      publishCommand({
        ...base,
        source: { ...base.source, snapshot: 'snap0' },
        target: { remote: 'second', project: 'default' },
        force: true,
      }),
    ).toBe(
      'lxc publish local:c1/snap0 second: --project dev  # then moved to project default, as lxc image copy --target-project does',
    );
  });
});
