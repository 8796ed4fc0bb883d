/**
 * Monaco for the image YAML editor, bundled from the npm package (nothing is fetched from the
 * network): the editor API, the few editor features the YAML editor uses, YAML highlighting, and
 * monaco-yaml's schema validation, completion and hover against IMAGE_DOCUMENT_SCHEMA.
 *
 * This module is heavy: only YamlEditor imports it, with a dynamic import(), so that Monaco loads
 * when an editor is first shown and never delays the first paint.
 *
 * Workers are Vite `?worker` bundles, emitted as files next to the app and started as
 * `new Worker(url, { type: 'module' })` from MonacoEnvironment.getWorker: the CSP's
 * `worker-src 'self'` allows them. (Without getWorker, Monaco would start its editor worker from a
 * blob: URL, which would need `worker-src blob:`.)
 */
import * as monaco from 'monaco-editor/editor/editor.api';
import { configureMonacoYaml, type JSONSchema } from 'monaco-yaml';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import YamlWorker from 'monaco-yaml/yaml.worker?worker';
import { IMAGE_DOCUMENT_SCHEMA } from '../../shared/images/document';

// The editor features the YAML editor uses, rather than editor.main's all (and every language).
import 'monaco-editor/features/codicon/register';
import 'monaco-editor/features/bracketMatching/register';
import 'monaco-editor/features/clipboard/register';
import 'monaco-editor/features/codeAction/register';
import 'monaco-editor/features/comment/register';
import 'monaco-editor/features/contextmenu/register';
import 'monaco-editor/features/cursorUndo/register';
import 'monaco-editor/features/find/register';
import 'monaco-editor/features/folding/register';
import 'monaco-editor/features/gotoError/register';
import 'monaco-editor/features/hover/register';
import 'monaco-editor/features/indentation/register';
import 'monaco-editor/features/linesOperations/register';
import 'monaco-editor/features/multicursor/register';
import 'monaco-editor/features/readOnlyMessage/register';
import 'monaco-editor/features/smartSelect/register';
import 'monaco-editor/features/snippet/register';
import 'monaco-editor/features/wordHighlighter/register';
import 'monaco-editor/features/wordOperations/register';
// The completion widget itself (features/suggest/register only adds inline suggestions).
import 'monaco-editor/editor/contrib/suggest/browser/suggestController';
// YAML syntax highlighting (Monarch); its grammar is a small lazily loaded chunk.
import 'monaco-editor/languages/definitions/yaml/register';

/** The path every image YAML model has; the schema applies to these models only. */
export const MODEL_PATH_PREFIX = '/hangar/image-';
const SCHEMA_URI = 'hangar://schemas/image.json';

self.MonacoEnvironment = {
  getWorker: (_workerId: string, label: string) =>
    label === 'yaml' ? new YamlWorker() : new EditorWorker(),
};

/** What monaco-worker-manager (inside monaco-yaml) passes to monaco.editor.createWebWorker. */
interface LegacyWorkerOptions {
  worker?: Worker | Promise<Worker>;
  moduleId?: string;
  label?: string;
  createData?: unknown;
  host?: Record<string, (...args: unknown[]) => unknown>;
  keepIdleModels?: boolean;
}

/**
 * monaco-yaml 5.5 (monaco-worker-manager 2) still calls createWebWorker({ moduleId, label,
 * createData }), the API of Monaco ≤ 0.52. Since 0.53 Monaco wants the Worker itself and no longer
 * sends createData. This starts the worker the way Monaco's own language workers do
 * (monaco-editor/esm/vs/internal/common/workers.js): one message that lets the worker install its
 * handler, then the createData, then Monaco's RPC.
 */
function createWebWorker<T extends object>(
  options: LegacyWorkerOptions,
): monaco.editor.MonacoWebWorker<T> {
  let worker = options.worker;
  if (worker === undefined) {
    const started = new YamlWorker({ name: options.label ?? 'yaml' });
    started.postMessage('ignore');
    started.postMessage(options.createData);
    worker = started;
  }
  return monaco.editor.createWebWorker<T>({
    worker,
    host: options.host,
    keepIdleModels: options.keepIdleModels,
  });
}

const yamlMonaco = { ...monaco, editor: { ...monaco.editor, createWebWorker } };

// A copy: the schema constant is deeply readonly, monaco-yaml's type is not.
const schema = JSON.parse(JSON.stringify(IMAGE_DOCUMENT_SCHEMA)) as JSONSchema;

configureMonacoYaml(yamlMonaco, {
  enableSchemaRequest: false,
  validate: true,
  completion: true,
  hover: true,
  // The schema is inlined: its hangar:// URI is no link to follow.
  hoverSchemaSource: false,
  // No reformatting: prettier's YAML style is not lxc's (it would indent lists, requote…).
  format: { enable: false },
  // lxc reads and writes this document with go-yaml v2: YAML 1.1 (yes/no are booleans).
  yamlVersion: '1.1',
  isKubernetes: false,
  schemas: [{ uri: SCHEMA_URI, fileMatch: [`**${MODEL_PATH_PREFIX}*.yaml`], schema }],
});

export { monaco };
