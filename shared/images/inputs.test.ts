import { describe, expect, it } from 'vitest';
import { parseAliases, parseProperties } from './inputs.js';

describe('transfer dialog inputs', () => {
  it('reads aliases separated by commas or spaces, once each', () => {
    expect(parseAliases(' web, db  web\nci ')).toEqual(['web', 'db', 'ci']);
    expect(parseAliases('   ')).toEqual([]);
  });

  it('reads key=value lines and says which line is wrong', () => {
    expect(parseProperties('os=Debian\n\ndescription = my = image \n')).toEqual({
      ok: true,
      properties: { os: 'Debian', description: 'my = image' },
    });
    expect(parseProperties('os=Debian\nrelease')).toEqual({
      ok: false,
      error: 'Line 2: "release" is not key=value.',
    });
    expect(parseProperties('my key=1')).toEqual({
      ok: false,
      error: 'Line 1: the key "my key" has a space in it.',
    });
  });
});
