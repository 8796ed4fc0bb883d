/**
 * The image YAML editor: Monaco with YAML highlighting, and monaco-yaml's validation, completion
 * and hover against the image document's schema; Hangar's own problems are shown as markers.
 *
 * Monaco is loaded on first use (a dynamic import of ./monaco-setup), so that importing this
 * component costs the first paint nothing. Until it has loaded the region shows a short notice; if
 * it cannot load, a plain text area edits the same text.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { editor } from 'monaco-editor/editor/editor.api';
import type { DocumentProblem } from '../../shared/images/document';
import { MARKER_OWNER, problemsToMarkers } from './markers';
import './YamlEditor.css';

export interface YamlEditorProps {
  /** The YAML text. The editor follows it; it is applied only when it differs from the editor's. */
  value: string;
  /** Called with the whole text after each edit. */
  onChange: (text: string) => void;
  /** Shown as markers (squiggles, hover, F8); a problem without a line is put on line 1. */
  problems: readonly DocumentProblem[];
  readOnly?: boolean;
  /** The accessible name of the region and of the editor's text input. */
  label?: string;
}

type Setup = typeof import('./monaco-setup');

interface Loaded {
  setup: Setup;
  editor: editor.IStandaloneCodeEditor;
  model: editor.ITextModel;
}

let modelCount = 0;
/** Edits the parent may lag behind by (it normally catches up after one or two). */
const MAX_REPORTED = 100;

export function YamlEditor({
  value,
  onChange,
  problems,
  readOnly = false,
  label = 'Image YAML',
}: YamlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const [loaded, setLoaded] = useState<Loaded>();
  const [failure, setFailure] = useState<string>();
  // The latest props, for the editor's callbacks and for its creation once Monaco has loaded.
  const latest = useRef({ value, onChange, readOnly, label });
  useLayoutEffect(() => {
    latest.current = { value, onChange, readOnly, label };
  });
  // True while a new `value` is put into the model: that change is not an edit to report.
  const applying = useRef(false);
  // Texts reported with onChange that have not come back as `value` yet. React may render after
  // more keys have been typed (Monaco's input events are not React's), so a `value` can be an
  // older text of ours: putting it back would drop keystrokes and move the cursor.
  const reported = useRef<string[]>([]);

  useEffect(() => {
    let unmounted = false;
    let created: (Loaded & { listener: { dispose: () => void } }) | undefined;
    import('./monaco-setup')
      .then((setup) => {
        if (unmounted || host.current === null) return;
        const { monaco, MODEL_PATH_PREFIX } = setup;
        const initial = latest.current;
        modelCount += 1;
        const model = monaco.editor.createModel(
          initial.value,
          'yaml',
          monaco.Uri.file(`${MODEL_PATH_PREFIX}${modelCount}.yaml`),
        );
        const instance = monaco.editor.create(host.current, {
          model,
          ariaLabel: initial.label,
          readOnly: initial.readOnly,
          automaticLayout: true,
          minimap: { enabled: false },
          scrollBeyondLastLine: false,
          fixedOverflowWidgets: true,
          tabSize: 2,
          insertSpaces: true,
          detectIndentation: false,
          renderWhitespace: 'boundary',
          wordBasedSuggestions: 'off',
          quickSuggestions: { other: true, comments: false, strings: true },
        });
        const listener = model.onDidChangeContent(() => {
          if (applying.current) return;
          const text = model.getValue();
          reported.current.push(text);
          if (reported.current.length > MAX_REPORTED) reported.current.shift();
          latest.current.onChange(text);
        });
        created = { setup, editor: instance, model, listener };
        setLoaded({ setup, editor: instance, model });
      })
      .catch((error: unknown) => {
        if (!unmounted) setFailure(error instanceof Error ? error.message : String(error));
      });
    return () => {
      unmounted = true;
      if (created === undefined) return;
      created.listener.dispose();
      created.editor.dispose();
      created.model.dispose();
    };
  }, []);

  useEffect(() => {
    if (loaded === undefined) return;
    const { editor: instance, model } = loaded;
    const echo = reported.current.indexOf(value);
    if (echo !== -1) {
      reported.current.splice(0, echo + 1);
      return;
    }
    reported.current = [];
    if (model.getValue() === value) return;
    const position = instance.getPosition();
    applying.current = true;
    try {
      model.setValue(value);
    } finally {
      applying.current = false;
    }
    if (position !== null) instance.setPosition(model.validatePosition(position));
  }, [loaded, value]);

  useEffect(() => {
    loaded?.editor.updateOptions({ readOnly, ariaLabel: label });
  }, [loaded, readOnly, label]);

  useEffect(() => {
    if (loaded === undefined) return;
    const { setup, model } = loaded;
    const { MarkerSeverity } = setup.monaco;
    const markers = problemsToMarkers(problems, {
      lineCount: model.getLineCount(),
      lineLength: (line) => model.getLineLength(line),
    }).map((marker) => ({
      ...marker,
      severity: marker.severity === 'error' ? MarkerSeverity.Error : MarkerSeverity.Warning,
    }));
    setup.monaco.editor.setModelMarkers(model, MARKER_OWNER, markers);
  }, [loaded, problems]);

  return (
    <div
      role="region"
      aria-label={label}
      aria-busy={loaded === undefined && failure === undefined}
      className="yaml-editor"
    >
      {failure === undefined ? (
        <>
          <div ref={host} className="yaml-editor-host" />
          {loaded === undefined ? (
            <p className="yaml-editor-status muted">Loading the editor…</p>
          ) : null}
        </>
      ) : (
        <>
          <p className="yaml-editor-status-inline muted">
            The YAML editor could not load ({failure}): editing as plain text.
          </p>
          <textarea
            className="yaml-editor-fallback mono"
            aria-label={label}
            value={value}
            readOnly={readOnly}
            spellCheck={false}
            onChange={(event) => onChange(event.target.value)}
          />
        </>
      )}
    </div>
  );
}
