/**
 * Reading decoded JSON the way Go's encoding/json fills LXD's structs: a
 * missing or null field is the zero value, a field of the wrong type fails
 * the whole file (LXD then refuses the catalog), unknown fields are ignored.
 * Paths are only built when something is wrong: catalogs have millions of fields.
 */

export type JsonObject = Record<string, unknown>;

export class ShapeError extends Error {
  constructor(
    readonly at: string,
    readonly expected: string,
    readonly found: unknown,
  ) {
    super(`${at} is ${describe(found)}, expected ${expected}`);
    this.name = 'ShapeError';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `${value}`;
    default:
      return 'an object';
  }
}

/** `parent.key`, or `parent["key"]` for keys that are not identifiers. */
export function member(parent: string, key: string): string {
  const name = /^[A-Za-z_][\w-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return parent === '' ? name.replace(/^\./, '') : `${parent}${name}`;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object (a Go struct or map); null or absent is an empty one. */
export function objectValue(value: unknown, at: () => string): JsonObject {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new ShapeError(at(), 'an object', value);
  return value;
}

export function stringField(object: JsonObject, key: string, at: () => string): string {
  const value = object[key];
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  throw new ShapeError(member(at(), key), 'a string', value);
}

/** Go's int64: a whole number. */
export function integerField(object: JsonObject, key: string, at: () => string): number {
  const value = object[key];
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (value === undefined || value === null) return 0;
  throw new ShapeError(member(at(), key), 'a whole number', value);
}

export function booleanField(object: JsonObject, key: string, at: () => string): boolean {
  const value = object[key];
  if (typeof value === 'boolean') return value;
  if (value === undefined || value === null) return false;
  throw new ShapeError(member(at(), key), 'true or false', value);
}

export function stringMapField(
  object: JsonObject,
  key: string,
  at: () => string,
): Map<string, string> {
  const map = new Map<string, string>();
  const entries = objectValue(object[key], () => member(at(), key));
  for (const [name, value] of Object.entries(entries)) {
    if (value !== null && typeof value !== 'string')
      throw new ShapeError(member(member(at(), key), name), 'a string', value);
    map.set(name, value ?? '');
  }
  return map;
}

export function stringListField(object: JsonObject, key: string, at: () => string): string[] {
  const value = object[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ShapeError(member(at(), key), 'a list of strings', value);
  return value.map((entry: unknown, index) => {
    if (entry === null) return '';
    if (typeof entry !== 'string')
      throw new ShapeError(`${member(at(), key)}[${index}]`, 'a string', entry);
    return entry;
  });
}
