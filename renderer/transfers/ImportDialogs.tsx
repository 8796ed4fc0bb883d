/** `lxc image import`: dropped or picked files (unified or split), or a URL. */
import { useEffect, useState } from 'react';
import { sizeCell } from '../../shared/images/format';
import { splitOrder, type SplitRole } from '../../shared/images/split-order';
import { parseAliases, parseProperties } from '../../shared/images/inputs';
import { importCommand } from '../../shared/lxc-command';
import { api } from '../api/hangar';
import { Dialog } from '../common/Dialog';
import { Alert, Checkbox, TextField } from '../common/fields';
import { DialogFooter } from './DialogFooter';
import { useAction } from './use-action';
import { peekSplitRole } from './split-roles';
import { CommandPreview } from '../common/CommandPreview';
import { TargetPicker, type Target } from './TargetPicker';

/**
 * Of two dropped files, which is the metadata (lxc takes it first): by what
 * the browser can read of them (plain and gzip tarballs, squashfs, qcow2),
 * else the smaller one, which Hangar checks against the contents when it
 * reads the files (its operation's command shows the order it used).
 */
function roles(
  files: File[],
  peeked: (SplitRole | undefined)[] | undefined,
): { file: File; role: string }[] {
  if (files.length !== 2) return files.map((file) => ({ file, role: 'unified image' }));
  const [a, b] = files as [File, File];
  const { metadata, by } = splitOrder(
    { role: peeked?.[0], size: a.size },
    { role: peeked?.[1], size: b.size },
  );
  const [meta, rootfs] = metadata === 0 ? [a, b] : [b, a];
  const reason =
    by === 'content'
      ? peeked?.[metadata] === 'metadata'
        ? 'it has metadata.yaml'
        : 'the other file is a root filesystem'
      : peeked === undefined
        ? 'reading the files…'
        : 'the smaller file; its contents decide when Hangar reads the files';
  return [
    { file: meta, role: `metadata (${reason})` },
    { file: rootfs, role: 'rootfs' },
  ];
}

/** What the browser can tell of each of two files (see split-roles.ts); undefined while reading. */
function usePeekedRoles(files: File[]): (SplitRole | undefined)[] | undefined {
  const [peeked, setPeeked] = useState<{ files: File[]; roles: (SplitRole | undefined)[] }>();
  useEffect(() => {
    if (files.length !== 2) return;
    let current = true;
    void Promise.all(files.map((file) => peekSplitRole(file))).then((roles) => {
      if (current) setPeeked({ files, roles });
    });
    return () => {
      current = false;
    };
  }, [files]);
  return peeked?.files === files ? peeked.roles : undefined;
}

export function ImportFilesDialog({
  files,
  initialTarget,
  onClose,
}: {
  files: File[];
  initialTarget: Target;
  onClose: () => void;
}) {
  const [target, setTarget] = useState(initialTarget);
  const [aliasText, setAliasText] = useState('');
  const [isPublic, setPublic] = useState(false);
  const [propertiesText, setPropertiesText] = useState('');
  const { busy, error, run } = useAction(onClose);
  const ordered = roles(files, usePeekedRoles(files));
  const countError =
    files.length === 0 || files.length > 2
      ? `An image is one file (unified) or two (split); you gave ${files.length}.`
      : undefined;
  const properties = parseProperties(propertiesText);
  const aliases = parseAliases(aliasText);
  const command = importCommand({
    ...target,
    files: ordered.map(({ file }) => file.name),
    aliases,
    public: isPublic,
    properties: properties.ok ? properties.properties : {},
  });
  return (
    <Dialog title="Import image" onClose={onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          if (!properties.ok) return;
          run(async () =>
            api.images.importFiles({
              ...target,
              // Paths in the desktop app; uploads (the browser sends the bytes) in web mode.
              files: await Promise.all(ordered.map(({ file }) => api.upload(file))),
              aliases,
              public: isPublic,
              properties: properties.properties,
            }),
          );
        }}
      >
        <ul className="import-files" aria-label="Files to import">
          {ordered.map(({ file, role }) => (
            <li key={`${file.name}-${file.size}`}>
              <span className="mono">{file.name}</span>{' '}
              <span className="muted">
                {sizeCell(file.size)} · {role}
              </span>
            </li>
          ))}
        </ul>
        <Alert message={countError} />
        <TargetPicker target={target} onChange={setTarget} />
        <TextField
          label="Aliases"
          value={aliasText}
          onChange={setAliasText}
          placeholder="separated by spaces or commas"
        />
        <Checkbox label="Public" checked={isPublic} onChange={setPublic} />
        <TextField
          label="Extra properties"
          rows={3}
          value={propertiesText}
          onChange={setPropertiesText}
          placeholder="key=value, one per line"
        />
        <Alert message={properties.ok ? undefined : properties.error} />
        <CommandPreview command={command} />
        {busy ? (
          <p className="muted">
            {api.kind === 'web' ? 'Sending the files to Hangar…' : 'Starting…'}
          </p>
        ) : null}
        <DialogFooter
          error={error}
          action="Import"
          disabled={countError !== undefined || !properties.ok || busy}
          onCancel={onClose}
        />
      </form>
    </Dialog>
  );
}

export function ImportUrlDialog({
  initialTarget,
  onClose,
}: {
  initialTarget: Target;
  onClose: () => void;
}) {
  const [target, setTarget] = useState(initialTarget);
  const [url, setUrl] = useState('');
  const [aliasText, setAliasText] = useState('');
  const [isPublic, setPublic] = useState(false);
  const { busy, error, run } = useAction(onClose);
  const aliases = parseAliases(aliasText);
  return (
    <Dialog title="Import from URL" onClose={onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          run(() =>
            api.images.importUrl({ ...target, url: url.trim(), aliases, public: isPublic }),
          );
        }}
      >
        <p className="muted">
          A web server that answers with the LXD-Image-URL and LXD-Image-Hash headers; LXD downloads
          the image itself.
        </p>
        <TextField
          label="URL"
          type="url"
          value={url}
          onChange={setUrl}
          placeholder="https://example.org/lxd-image"
        />
        <TargetPicker target={target} onChange={setTarget} />
        <TextField label="Aliases" value={aliasText} onChange={setAliasText} />
        <Checkbox label="Public" checked={isPublic} onChange={setPublic} />
        <CommandPreview
          command={importCommand({
            ...target,
            files: [url.trim() || '<url>'],
            aliases,
            public: isPublic,
            properties: {},
          })}
        />
        <DialogFooter
          error={error}
          action="Import"
          disabled={busy || url.trim() === ''}
          onCancel={onClose}
        />
      </form>
    </Dialog>
  );
}
