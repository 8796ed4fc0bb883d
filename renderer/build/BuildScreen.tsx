/**
 * "Build image": a root filesystem folder on this machine packed as an LXD
 * image (metadata.yaml, templates, rootfs), written into a folder and/or
 * imported into a remote's project. The main process writes metadata.yaml
 * and checks it as LXD would (build.check); web mode has no folders to read.
 */
import { useEffect, useId, useState } from 'react';
import type { BuildCheck, CallInput } from '../../shared/contract';
import { HangarError } from '../../shared/errors';
import { api } from '../api/hangar';
import { FolderField } from '../common/FolderField';
import { useConnection } from '../app/connection-store';
import { Alert, Checkbox, TextField } from '../common/fields';
import { TargetPicker, type Target } from '../transfers/TargetPicker';

type When = 'create' | 'copy' | 'start' | 'rename';
const WHENS: When[] = ['create', 'copy', 'start', 'rename'];

interface Row {
  key: string;
  value: string;
}
interface TemplateDraft {
  path: string;
  when: When[];
  createOnly: boolean;
  template: string;
  properties: Row[];
}

const toMap = (rows: Row[]) =>
  Object.fromEntries(
    rows.filter((row) => row.key.trim() !== '').map((row) => [row.key.trim(), row.value]),
  );
/** datetime-local text ↔ Unix seconds. */
const localText = (seconds: number) => {
  const date = new Date(seconds * 1000);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const seconds = (text: string) =>
  text === '' ? undefined : Math.floor(new Date(text).getTime() / 1000) || undefined;

function Rows({
  label,
  rows,
  onChange,
}: {
  label: string;
  rows: Row[];
  onChange: (rows: Row[]) => void;
}) {
  const set = (index: number, row: Row) =>
    onChange(rows.map((current, at) => (at === index ? row : current)));
  return (
    <fieldset>
      <legend>{label}</legend>
      {rows.map((row, index) => (
        <div className="row" key={index}>
          <input
            aria-label={`${label} key ${index + 1}`}
            value={row.key}
            placeholder="key"
            onChange={(event) => set(index, { ...row, key: event.target.value })}
          />
          <input
            aria-label={`${label} value ${index + 1}`}
            value={row.value}
            placeholder="value"
            onChange={(event) => set(index, { ...row, value: event.target.value })}
          />
          <button type="button" onClick={() => onChange(rows.filter((_, at) => at !== index))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...rows, { key: '', value: '' }])}>
        Add
      </button>
    </fieldset>
  );
}

export function BuildScreen() {
  const { remote, project } = useConnection();
  const desktop = api.kind === 'ipc';
  const [rootfs, setRootfs] = useState('');
  const [architectures, setArchitectures] = useState<string[]>([]);
  const [architecture, setArchitecture] = useState('');
  const [now] = useState(() => Math.floor(Date.now() / 1000));
  const [created, setCreated] = useState(() => localText(now));
  const [expiry, setExpiry] = useState('');
  const [properties, setProperties] = useState<Row[]>([
    { key: 'description', value: '' },
    { key: 'os', value: '' },
    { key: 'release', value: '' },
  ]);
  const [templates, setTemplates] = useState<TemplateDraft[]>([]);
  const [layout, setLayout] = useState<'unified' | 'split'>('unified');
  const [compression, setCompression] = useState<'gzip' | 'xz' | 'zstd' | 'none'>('gzip');
  const [directory, setDirectory] = useState('');
  const [target, setTarget] = useState<Target>({ remote: remote ?? '', project });
  const [check, setCheck] = useState<BuildCheck | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const ids = { arch: useId(), created: useId(), expiry: useId(), layout: useId(), comp: useId() };

  useEffect(() => {
    if (remote === undefined) return;
    void api.build.architectures({ remote }).then(
      (names) => {
        setArchitectures(names);
        setArchitecture((current) => current || (names[0] ?? ''));
      },
      () => setArchitectures([]),
    );
  }, [remote]);

  const input: CallInput<'build.check'> = {
    ...(desktop && rootfs.startsWith('/') ? { rootfs } : {}),
    layout,
    metadata: {
      architecture: architecture || 'x86_64',
      creationDate: seconds(created) ?? now,
      ...(seconds(expiry) === undefined ? {} : { expiryDate: seconds(expiry) }),
      properties: toMap(properties),
    },
    templates: templates.map((template) => ({
      path: template.path,
      when: template.when,
      createOnly: template.createOnly,
      template: template.template,
      properties: toMap(template.properties),
    })),
  };
  const key = JSON.stringify(input);
  useEffect(() => {
    const timer = setTimeout(() => {
      api.build
        .check(JSON.parse(key) as CallInput<'build.check'>)
        .then(setCheck, (error: unknown) =>
          setCheck({ yaml: '', problems: [HangarError.from(error).message] }),
        );
    }, 300);
    return () => clearTimeout(timer);
  }, [key]);

  const setTemplate = (index: number, template: TemplateDraft) =>
    setTemplates(templates.map((current, at) => (at === index ? template : current)));
  const ready = desktop && input.rootfs !== undefined && check?.problems.length === 0 && !busy;
  const start = (packInput: CallInput<'build.pack'>) => {
    setBusy(true);
    setMessage(undefined);
    api.build.pack(packInput).then(
      (operation) => {
        setMessage(`${operation.title}: started (see Operations).`);
        setBusy(false);
      },
      (error: unknown) => {
        setMessage(HangarError.from(error).message);
        setBusy(false);
      },
    );
  };
  const packInput = (): CallInput<'build.pack'> => ({
    ...input,
    rootfs,
    layout,
    compression,
  });

  return (
    <section className="build-screen" aria-label="Build image">
      <h2>Build image</h2>
      {desktop ? null : (
        <p className="notice">
          Building an image reads a root filesystem folder on the machine running Hangar: that needs
          the desktop app. Here you can still draft metadata.yaml.
        </p>
      )}
      <form className="form" onSubmit={(event) => event.preventDefault()}>
        {desktop ? (
          <FolderField
            label="Root filesystem (a folder or a tarball)"
            title="Root filesystem"
            value={rootfs}
            onChange={setRootfs}
            canChoose
          />
        ) : null}
        <div className="field">
          <label htmlFor={ids.arch}>Architecture</label>
          <select
            id={ids.arch}
            value={architecture}
            onChange={(event) => setArchitecture(event.target.value)}
          >
            {architectures.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.created}>Creation date</label>
          <input
            id={ids.created}
            type="datetime-local"
            value={created}
            onChange={(event) => setCreated(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.expiry}>Expiry date</label>
          <input
            id={ids.expiry}
            type="datetime-local"
            value={expiry}
            onChange={(event) => setExpiry(event.target.value)}
          />
        </div>
        <Rows label="Properties" rows={properties} onChange={setProperties} />
        <fieldset>
          <legend>Templates</legend>
          {templates.map((template, index) => (
            <fieldset key={index}>
              <legend>Template {index + 1}</legend>
              <TextField
                label="Path in the instance"
                value={template.path}
                placeholder="/etc/hostname"
                onChange={(path) => setTemplate(index, { ...template, path })}
              />
              {WHENS.map((when) => (
                <Checkbox
                  key={when}
                  label={when}
                  checked={template.when.includes(when)}
                  onChange={(on) =>
                    setTemplate(index, {
                      ...template,
                      when: on
                        ? [...template.when, when]
                        : template.when.filter((item) => item !== when),
                    })
                  }
                />
              ))}
              <Checkbox
                label="create_only (only when the file does not exist)"
                checked={template.createOnly}
                onChange={(createOnly) => setTemplate(index, { ...template, createOnly })}
              />
              <TextField
                label="Template"
                rows={4}
                value={template.template}
                placeholder="{{ container.name }}"
                onChange={(text) => setTemplate(index, { ...template, template: text })}
              />
              <Rows
                label="Template properties"
                rows={template.properties}
                onChange={(rows) => setTemplate(index, { ...template, properties: rows })}
              />
              <button
                type="button"
                onClick={() => setTemplates(templates.filter((_, at) => at !== index))}
              >
                Remove template
              </button>
            </fieldset>
          ))}
          <button
            type="button"
            onClick={() =>
              setTemplates([
                ...templates,
                { path: '', when: ['create'], createOnly: false, template: '', properties: [] },
              ])
            }
          >
            Add template
          </button>
        </fieldset>
        <div className="field">
          <label>metadata.yaml</label>
          <pre className="mono" aria-label="metadata.yaml">
            {check?.yaml ?? ''}
          </pre>
        </div>
        {check === undefined || check.problems.length === 0 ? null : (
          <ul className="error" role="alert" aria-label="Problems">
            {check.problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        )}
        {desktop ? (
          <>
            <div className="field">
              <label htmlFor={ids.layout}>Layout</label>
              <select
                id={ids.layout}
                value={layout}
                onChange={(event) => setLayout(event.target.value as 'unified' | 'split')}
              >
                <option value="unified">unified (one tarball)</option>
                <option value="split">split (metadata + rootfs)</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor={ids.comp}>Compression</label>
              <select
                id={ids.comp}
                value={compression}
                onChange={(event) => setCompression(event.target.value as typeof compression)}
              >
                {(['gzip', 'xz', 'zstd', 'none'] as const).map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </div>
            <FolderField
              label="Output folder"
              title="Pack into"
              value={directory}
              onChange={setDirectory}
              canChoose
            />
            <button
              type="button"
              disabled={!ready || !directory.startsWith('/')}
              onClick={() => start({ ...packInput(), directory })}
            >
              Pack
            </button>
            <TargetPicker target={target} onChange={setTarget} label="Import into" />
            <button
              type="button"
              disabled={!ready || target.remote === ''}
              onClick={() =>
                start({
                  ...packInput(),
                  importTo: {
                    remote: target.remote,
                    project: target.project,
                    aliases: [],
                    public: false,
                  },
                })
              }
            >
              Import
            </button>
          </>
        ) : null}
        <Alert message={message} />
      </form>
    </section>
  );
}
