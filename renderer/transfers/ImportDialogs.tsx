/** `lxc image import`: dropped or picked files (unified or split), or a URL. */
import { useState } from 'react';
import { sizeCell } from '../../shared/images/format';
import { parseAliases, parseProperties } from '../../shared/images/inputs';
import { importCommand } from '../../shared/lxc-command';
import { api } from '../api/hangar';
import { Dialog } from '../common/Dialog';
import { Alert, Checkbox, TextField } from '../common/fields';
import { DialogFooter } from './DialogFooter';
import { useAction } from './use-action';
import { fileRef } from './files';
import { CommandPreview } from '../common/CommandPreview';
import { TargetPicker, type Target } from './TargetPicker';

/** Of two dropped files the smaller is the metadata (a metadata tarball is tiny); lxc takes them in order. */
function roles(files: File[]): { file: File; role: string }[] {
  if (files.length !== 2) return files.map((file) => ({ file, role: 'unified image' }));
  const [a, b] = files as [File, File];
  const [metadata, rootfs] = a.size <= b.size ? [a, b] : [b, a];
  return [
    { file: metadata, role: 'metadata (the smaller file)' },
    { file: rootfs, role: 'rootfs' },
  ];
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
  const ordered = roles(files);
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
              files: await Promise.all(ordered.map(({ file }) => fileRef(file))),
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
            {window.hangar?.pathForFile === undefined
              ? 'Sending the files to Hangar…'
              : 'Starting…'}
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
