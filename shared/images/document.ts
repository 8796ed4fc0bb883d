/**
 * The document `lxc image edit` edits (LXD's api.ImagePut): what can change
 * about an image. It is read and written as YAML the way lxc does (go-yaml v2:
 * YAML 1.1 booleans, a scalar decoded into a string keeps its text, so
 * `version: 1.10` stays "1.10"), and checked before anything is sent.
 */
import { FAILSAFE_SCHEMA, YAML11_SCHEMA, YAMLException, dump, load, mergeTag } from 'js-yaml';
import type { LxdImage } from '../lxd.js';

export interface ImageDocument {
  auto_update: boolean;
  properties: Record<string, string>;
  public: boolean;
  /** RFC 3339; LXD's zero time (0001-01-01 or 1970-01-01) means never. */
  expires_at: string;
  profiles: string[];
}

/** The fields in the order `lxc image edit` shows them. */
export const DOCUMENT_FIELDS = [
  'auto_update',
  'properties',
  'public',
  'expires_at',
  'profiles',
] as const satisfies readonly (keyof ImageDocument)[];

/** Fields of an image that LXD sets itself; an edit that names one is refused with why. */
export const READ_ONLY_FIELDS: Record<string, string> = {
  fingerprint: 'the fingerprint is the hash of the image files',
  architecture: 'the architecture is fixed when the image is made (metadata.yaml)',
  created_at: 'the creation date is fixed when the image is made (metadata.yaml)',
  creation_date: 'the creation date is fixed when the image is made (metadata.yaml)',
  uploaded_at: 'LXD records when the image was uploaded',
  last_used_at: 'LXD records when the image was last used',
  size: 'the size is that of the image files',
  type: 'the type (container or virtual machine) is fixed by the image files',
  filename: 'the file name is kept from the upload',
  cached: 'LXD decides whether an image is a cache entry',
  aliases: 'aliases are managed on their own (Add alias, rename, move, delete)',
  update_source: 'the source is recorded when the image is copied',
  project: 'an image belongs to its project',
};

/** Longest property key and value Hangar sends (LXD itself sets no limit). */
export const PROPERTY_KEY_MAX = 255;
export const PROPERTY_VALUE_MAX = 65_536;
/** Larger YAML is refused before it is parsed. */
export const DOCUMENT_YAML_MAX = 1024 * 1024;
/** LXD's zero time: what "never expires" is sent as. */
export const NEVER = '0001-01-01T00:00:00Z';

export function documentOf(image: LxdImage): ImageDocument {
  return {
    auto_update: image.auto_update,
    properties: { ...image.properties },
    public: image.public,
    expires_at: image.expires_at,
    profiles: [...(image.profiles ?? [])],
  };
}

/** A problem with a draft: where (a field, or a property key) and what to do. */
export interface DocumentProblem {
  /** `auto_update`, `properties`, `properties.<key>`, a YAML position… */
  path: string;
  message: string;
  /** 1-based, when the problem is in YAML text. */
  line?: number;
  column?: number;
  /** A warning does not block saving. */
  severity: 'error' | 'warning';
}

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;

/** What is wrong with a property key, or a note about it; undefined when nothing. */
export function propertyKeyProblem(
  key: string,
): { severity: 'error' | 'warning'; message: string } | undefined {
  if (key === '') return { severity: 'error', message: 'A property key cannot be empty.' };
  if (key.trim() !== key)
    return {
      severity: 'error',
      message: `The key "${key}" starts or ends with white space, which nobody would see: remove it.`,
    };
  if (CONTROL.test(key))
    return {
      severity: 'error',
      message: `The key ${JSON.stringify(key)} has a control character (a tab or a line break) in it.`,
    };
  if (key.length > PROPERTY_KEY_MAX)
    return {
      severity: 'error',
      message: `The key "${key.slice(0, 40)}…" is ${key.length} characters long; a key is at most ${PROPERTY_KEY_MAX}.`,
    };
  if (/\s/.test(key))
    return {
      severity: 'warning',
      message: `LXD accepts the space in "${key}", but lxc commands need it quoted ('${key}=…').`,
    };
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(key))
    return {
      severity: 'warning',
      message: `LXD accepts "${key}", but keys are usually ASCII (os, release, user.…): scripts may not expect it.`,
    };
  return undefined;
}

export function propertyValueProblem(
  key: string,
  value: string,
): { severity: 'error' | 'warning'; message: string } | undefined {
  if (value.length > PROPERTY_VALUE_MAX)
    return {
      severity: 'error',
      message: `The value of "${key}" is ${value.length.toLocaleString('en-US')} characters long; Hangar sends at most ${PROPERTY_VALUE_MAX.toLocaleString('en-US')}.`,
    };
  // LXD (5.0) skips empty values when it stores an edit, as lxc image edit shows.
  if (value === '')
    return {
      severity: 'warning',
      message: `"${key}" has no value: LXD does not keep an empty property, so saving removes it.`,
    };
  return undefined;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?\s*([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/** A time as go-yaml v2 decodes one into time.Time, normalized to RFC 3339 (UTC); undefined if not a time. */
export function parseTime(text: string): string | undefined {
  const match = RFC3339.exec(text.trim());
  if (match === null) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zoneRaw] =
    match;
  const zone =
    zoneRaw === undefined || zoneRaw === 'Z' || zoneRaw === 'z'
      ? 'Z'
      : zoneRaw.includes(':')
        ? zoneRaw
        : `${zoneRaw.slice(0, 3)}:${zoneRaw.slice(3)}`;
  const iso = `${year}-${month}-${day}T${hour}:${minute}:${second}${zone}`;
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return undefined;
  // Year 1 (LXD's zero time) is outside what Date formats back as written.
  if (Number(year) < 1000 && zone === 'Z')
    return `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction}Z`;
  const utc = new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return fraction === '' ? utc : utc.replace(/Z$/, `${fraction}Z`);
}

/**
 * Everything wrong with a draft. Keys already on the server (`base`) are
 * not held against it: LXD accepted them once, and an unrelated edit must
 * still be possible.
 */
export function documentProblems(draft: ImageDocument, base?: ImageDocument): DocumentProblem[] {
  const problems: DocumentProblem[] = [];
  for (const [key, value] of Object.entries(draft.properties)) {
    const existed = base !== undefined && Object.hasOwn(base.properties, key);
    const keyProblem = existed ? undefined : propertyKeyProblem(key);
    if (keyProblem !== undefined) problems.push({ path: `properties.${key}`, ...keyProblem });
    const valueProblem = propertyValueProblem(key, value);
    if (valueProblem !== undefined) problems.push({ path: `properties.${key}`, ...valueProblem });
  }
  if (parseTime(draft.expires_at) === undefined)
    problems.push({
      path: 'expires_at',
      severity: 'error',
      message: `expires_at must be a date and time such as 2030-01-31T00:00:00Z, not "${draft.expires_at}".`,
    });
  for (const profile of draft.profiles)
    if (profile.trim() === '' || profile.length > 63 || /[\s/]/.test(profile))
      problems.push({
        path: 'profiles',
        severity: 'error',
        message: `"${profile}" is not a profile name.`,
      });
  return problems;
}

export const blocking = (problems: DocumentProblem[]) =>
  problems.some((problem) => problem.severity === 'error');

// ---------------------------------------------------------------------------
// YAML, as lxc shows and reads it.

const TYPED_SCHEMA = YAML11_SCHEMA.withTags(mergeTag);
const TEXT_SCHEMA = FAILSAFE_SCHEMA.withTags(mergeTag);

/** The YAML `lxc image edit` would show for the document (field order and quoting as go-yaml's). */
export function documentToYaml(document: ImageDocument): string {
  return documentYaml(document, Object.entries(document.properties));
}

const dumpOptions = { schema: TYPED_SCHEMA, lineWidth: -1, noRefs: true, seqNoIndent: true };

/**
 * The same YAML from the fields and a list of property entries, which may
 * repeat a key (a form row typed twice): the YAML then says so, as the form does.
 */
export function documentYaml(
  fields: Omit<ImageDocument, 'properties'>,
  properties: [key: string, value: string][],
): string {
  // The YAML 1.1 schema quotes what go-yaml would read as another type ("1.10", "yes").
  const head = dump({ auto_update: fields.auto_update }, dumpOptions);
  const entries = properties
    .map(([key, value]) =>
      dump({ [key]: value }, dumpOptions)
        .trimEnd()
        .split('\n')
        .map((line) => `  ${line}`)
        .join('\n'),
    )
    .join('\n');
  const tail = dump(
    { public: fields.public, expires_at: fields.expires_at, profiles: fields.profiles },
    dumpOptions,
  ).replace(/^expires_at: ['"]([^'"]*)['"]$/m, 'expires_at: $1');
  return `${head}${properties.length === 0 ? 'properties: {}' : `properties:\n${entries}`}\n${tail}`;
}

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
const kind = (value: unknown) =>
  Array.isArray(value)
    ? 'a list'
    : isMapping(value)
      ? 'a mapping'
      : value instanceof Date
        ? 'a date'
        : JSON.stringify(value);

/** 1-based line of the first line that starts with `key:` (for markers on semantic errors). */
function lineOf(text: string, key: string, indented = false): number | undefined {
  const lines = text.split('\n');
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(
    `^${indented ? '\\s+' : ''}(?:"${escaped}"|'${escaped}'|${escaped})\\s*:`,
  );
  const index = lines.findIndex((line) => pattern.test(line));
  return index < 0 ? undefined : index + 1;
}

export type ParsedDocument =
  | { ok: true; document: ImageDocument; warnings: DocumentProblem[] }
  | { ok: false; problems: DocumentProblem[] };

const loadOptions = {
  // Anchors are of no use here; a handful is plenty, and a bomb is refused before it grows.
  maxAliases: 20,
  maxTotalMergeKeys: 1000,
  maxDepth: 20,
};

/**
 * Reads YAML typed in the editor into a document, with every problem and
 * where it is. `base` is the server's document (see documentProblems).
 */
export function parseDocumentYaml(text: string, base?: ImageDocument): ParsedDocument {
  const fail = (problem: Omit<DocumentProblem, 'severity'>): ParsedDocument => ({
    ok: false,
    problems: [{ ...problem, severity: 'error' }],
  });
  if (text.length > DOCUMENT_YAML_MAX)
    return fail({
      path: 'document',
      message: `The YAML is ${(text.length / 1024 / 1024).toFixed(1)} MiB; an image's document is at most 1 MiB.`,
    });
  let typed: unknown;
  let raw: unknown;
  try {
    typed = load(text, { schema: TYPED_SCHEMA, ...loadOptions });
    raw = load(text, { schema: TEXT_SCHEMA, ...loadOptions });
  } catch (error) {
    if (error instanceof YAMLException) {
      const mark = error.mark;
      return fail({
        path: 'document',
        message: `Invalid YAML: ${error.reason}${mark === undefined ? '' : ` (line ${mark.line + 1}, column ${mark.column + 1})`}.`,
        ...(mark === undefined ? {} : { line: mark.line + 1, column: mark.column + 1 }),
      });
    }
    return fail({
      path: 'document',
      message: `Invalid YAML: ${error instanceof Error ? error.message : String(error)}.`,
    });
  }
  if (!isMapping(typed) || !isMapping(raw))
    return fail({
      path: 'document',
      line: 1,
      message: `The document must be a mapping of ${DOCUMENT_FIELDS.join(', ')}, not ${typed === undefined || typed === null ? 'empty' : kind(typed)}.`,
    });

  const problems: DocumentProblem[] = [];
  const problem = (path: string, message: string, key = path) => {
    const line = lineOf(text, key);
    problems.push({ path, message, severity: 'error', ...(line === undefined ? {} : { line }) });
  };
  for (const key of Object.keys(raw)) {
    if ((DOCUMENT_FIELDS as readonly string[]).includes(key)) continue;
    const why = READ_ONLY_FIELDS[key];
    problem(
      key,
      why === undefined
        ? `Unknown field "${key}": an image's document has ${DOCUMENT_FIELDS.join(', ')}.`
        : `"${key}" cannot be changed: ${why}.`,
    );
  }
  for (const key of DOCUMENT_FIELDS)
    if (!Object.hasOwn(raw, key))
      problems.push({
        path: key,
        severity: 'error',
        line: 1,
        message: `"${key}" is missing: LXD would reset it (write ${key === 'properties' ? '"properties: {}"' : key === 'profiles' ? '"profiles: []"' : `the value to keep`}).`,
      });

  const bool = (key: 'auto_update' | 'public'): boolean => {
    const value = typed[key];
    if (typeof value === 'boolean') return value;
    if (value === null || value === undefined) return false;
    problem(key, `${key} must be true or false, not ${kind(raw[key])}.`);
    return false;
  };
  const autoUpdate = bool('auto_update');
  const isPublic = bool('public');

  const properties: Record<string, string> = {};
  const typedProperties = typed.properties;
  const rawProperties = raw.properties;
  if (typedProperties !== null && typedProperties !== undefined) {
    if (!isMapping(typedProperties) || !isMapping(rawProperties)) {
      problem(
        'properties',
        `properties must be a mapping of keys to text, not ${kind(typedProperties)}.`,
      );
    } else {
      for (const [key, value] of Object.entries(rawProperties)) {
        // A key the YAML 1.1 reading changed (n → false) is found only as text.
        const typedValue = Object.hasOwn(typedProperties, key) ? typedProperties[key] : value;
        if (typedValue === null) properties[key] = '';
        else if (typeof value === 'string' && !isMapping(typedValue) && !Array.isArray(typedValue))
          properties[key] = value;
        else
          problems.push({
            path: `properties.${key}`,
            severity: 'error',
            message: `The property "${key}" must be text, not ${kind(typedValue)}.`,
            ...(() => {
              const line = lineOf(text, key, true);
              return line === undefined ? {} : { line };
            })(),
          });
      }
    }
  }

  let expiresAt = NEVER;
  const rawExpires = raw.expires_at;
  if (rawExpires !== null && rawExpires !== undefined) {
    const parsed = typeof rawExpires === 'string' ? parseTime(rawExpires) : undefined;
    if (parsed === undefined)
      problem(
        'expires_at',
        `expires_at must be a date and time such as 2030-01-31T00:00:00Z, not ${kind(rawExpires)}.`,
      );
    else expiresAt = parsed;
  }

  const profiles: string[] = [];
  const rawProfiles = raw.profiles;
  if (rawProfiles !== null && rawProfiles !== undefined) {
    if (!Array.isArray(rawProfiles))
      problem('profiles', `profiles must be a list of profile names, not ${kind(rawProfiles)}.`);
    else
      for (const profile of rawProfiles) {
        if (typeof profile === 'string') profiles.push(profile);
        else
          problem('profiles', `profiles must be a list of names, and ${kind(profile)} is not one.`);
      }
  }

  const document: ImageDocument = {
    auto_update: autoUpdate,
    properties,
    public: isPublic,
    expires_at: expiresAt,
    profiles,
  };
  for (const found of documentProblems(document, base)) {
    const key = found.path.startsWith('properties.')
      ? found.path.slice('properties.'.length)
      : found.path;
    const line = lineOf(text, key, found.path.startsWith('properties.'));
    problems.push(line === undefined ? found : { ...found, line });
  }
  const errors = problems.filter((found) => found.severity === 'error');
  if (errors.length > 0) return { ok: false, problems };
  return { ok: true, document, warnings: problems };
}

// ---------------------------------------------------------------------------
// Drafts and the server's version.

export function sameDocument(a: ImageDocument, b: ImageDocument): boolean {
  return documentToYaml(a) === documentToYaml(b);
}

/**
 * A draft made on `base`, reapplied on `server` (the image changed meanwhile):
 * each field and each property the draft changed wins; everything else is
 * the server's.
 */
export function rebaseDraft(
  base: ImageDocument,
  draft: ImageDocument,
  server: ImageDocument,
): ImageDocument {
  const removed = new Set(
    Object.keys(base.properties).filter((key) => !Object.hasOwn(draft.properties, key)),
  );
  const properties = Object.fromEntries(
    Object.entries(server.properties).filter(([key]) => !removed.has(key)),
  );
  for (const [key, value] of Object.entries(draft.properties))
    if (base.properties[key] !== value) properties[key] = value;
  const pick = <K extends keyof ImageDocument>(key: K): ImageDocument[K] =>
    JSON.stringify(draft[key]) === JSON.stringify(base[key]) ? server[key] : draft[key];
  return {
    auto_update: pick('auto_update'),
    properties,
    public: pick('public'),
    expires_at: pick('expires_at'),
    profiles: pick('profiles'),
  };
}

/** The JSON schema the YAML editor validates, completes and documents with. */
export const IMAGE_DOCUMENT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'LXD image (lxc image edit)',
  type: 'object',
  additionalProperties: false,
  required: [...DOCUMENT_FIELDS],
  properties: {
    auto_update: {
      type: 'boolean',
      description:
        'Keep the image up to date from its source (update_source): LXD checks for a newer version every images.auto_update_interval hours.',
    },
    properties: {
      type: 'object',
      description:
        'Free-form text properties. `description` is what `lxc image list` shows; `os`, `release`, `architecture`, `variant` are searched with key=value filters.',
      additionalProperties: { type: 'string', maxLength: PROPERTY_VALUE_MAX },
      propertyNames: { minLength: 1, maxLength: PROPERTY_KEY_MAX },
      properties: {
        description: {
          type: 'string',
          description: 'Shown in the DESCRIPTION column of `lxc image list`.',
        },
        os: { type: 'string', description: 'Operating system name (e.g. Ubuntu, Debian).' },
        release: { type: 'string', description: 'Release name or number (e.g. noble, 12).' },
        version: { type: 'string', description: 'Version of the release, as text (e.g. "24.04").' },
        architecture: {
          type: 'string',
          description: 'Architecture as the image server names it (e.g. amd64).',
        },
        variant: { type: 'string', description: 'Variant of the image (e.g. default, cloud).' },
        serial: { type: 'string', description: 'Build serial, usually a date (e.g. "20240423").' },
      },
    },
    public: {
      type: 'boolean',
      description:
        'Anyone who can reach the server may list and download this image, without a certificate.',
    },
    expires_at: {
      type: 'string',
      description:
        'When LXD deletes the image (RFC 3339, e.g. 2030-01-31T00:00:00Z); 0001-01-01T00:00:00Z means never.',
    },
    profiles: {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 63 },
      description: 'Profiles applied to instances created from this image.',
    },
  },
  // Named so the editor can say why in its hover and markers.
  $comment: `Read-only fields (${Object.keys(READ_ONLY_FIELDS).join(', ')}) are shown above the editor, not in it.`,
} as const;
