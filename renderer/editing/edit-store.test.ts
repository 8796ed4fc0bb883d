import { beforeEach, expect, it, vi } from 'vitest';
import type { ImageForEdit } from '../../shared/contract';
import type { LxdImage } from '../../shared/lxd';
import { isDirty, useEdit } from './edit-store';

const target = { remote: 'local', project: 'default', fingerprint: 'a'.repeat(64) };
const image = (os: string): LxdImage => ({
  fingerprint: target.fingerprint,
  aliases: [],
  properties: { description: 'Debian 12', os, release: 'bookworm' },
  architecture: 'x86_64',
  type: 'container',
  filename: 'debian.tar.xz',
  size: 1000,
  public: false,
  auto_update: false,
  cached: false,
  created_at: '2024-01-01T00:00:00Z',
  uploaded_at: '2024-01-02T00:00:00Z',
  expires_at: '0001-01-01T00:00:00Z',
  last_used_at: '0001-01-01T00:00:00Z',
  profiles: ['default'],
});

/** The image as the main process has it now: what a load or a save answers. */
let server: ImageForEdit = { image: image('Debian'), etag: 'e1' };

vi.mock('../api/hangar', () => ({
  api: {
    images: {
      document: () => Promise.resolve(server),
      update: ({ document }: { document: { properties: Record<string, string> } }) => {
        server = {
          image: { ...server.image, properties: document.properties },
          etag: `${server.etag}+`,
        };
        return Promise.resolve(server);
      },
    },
  },
}));

beforeEach(() => {
  server = { image: image('Debian'), etag: 'e1' };
  useEdit.setState({ target: undefined, base: undefined, parsed: undefined, rows: [] });
});

const rowIds = () => useEdit.getState().rows.map((row) => row.id);

it('keeps the form rows (the inputs on screen) when the image on screen is loaded again or saved', async () => {
  const { open } = useEdit.getState();
  await open(target, server.image, false);
  const ids = rowIds();
  expect(ids).toHaveLength(3);

  // A live update of the list reloads the image: the user may be typing in one of its fields,
  // which must stay the same field (a new one would drop the keys typed meanwhile, and the focus).
  await open(target, server.image, false);
  expect(rowIds()).toEqual(ids);

  const { rows, fields, editForm } = useEdit.getState();
  if (fields === undefined) throw new Error('no form');
  editForm(
    fields,
    rows.map((row) => (row.key === 'os' ? { ...row, value: 'Mine' } : row)),
  );
  expect(await useEdit.getState().save()).toBe(true);
  expect(server.image.properties.os).toBe('Mine');
  expect(rowIds()).toEqual(ids);

  // The save's own event reloads it once more; what is typed after the save stays.
  const after = useEdit.getState();
  after.editForm(
    fields,
    after.rows.map((row) => (row.key === 'os' ? { ...row, value: 'Unsaved' } : row)),
  );
  await open(target, server.image, false);
  expect(rowIds()).toEqual(ids);
  expect(isDirty(useEdit.getState())).toBe(true);
  expect(useEdit.getState().rows.find((row) => row.key === 'os')?.value).toBe('Unsaved');
});
