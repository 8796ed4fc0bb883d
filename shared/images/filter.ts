/**
 * The filter of `lxc image list [<remote>:] [<filter>...]` as LXD 5.0's
 * client applies it, checked term by term against the installed `lxc` in
 * filter.conformance.test.ts:
 * - every term must match (terms are AND-ed);
 * - a bare term matches when it is a substring of an alias name or of the
 *   fingerprint, case-sensitively (lxc/image.go `imageShouldShow`);
 * - `field=value`, where `field` is a top-level field of the image (as
 *   `architecture`, `type`), is sent to LXD's server-side filter: string
 *   fields match `value` as a case-insensitive regular expression; other
 *   fields (booleans, numbers, dates, lists) never match. Properties are not
 *   looked at, so `architecture=amd64` does not match `properties.architecture`;
 * - any other `key=value` matches a property whose name matches `key` piece
 *   by piece (split on "."; each piece of `key` a prefix of the name's
 *   piece, same number of pieces: `dotPrefixMatch`) and whose value matches
 *   `value` as a regular expression;
 * - a regular expression is anchored with ^…$ unless it contains ^ or $; one
 *   that does not compile is compared literally.
 */
import type { LxdImage } from '../lxd.js';

/** The json names of LXD 5.0's api.Image fields, with those of its embedded ImagePut. */
const IMAGE_FIELDS = new Set([
  'auto_update',
  'properties',
  'public',
  'expires_at',
  'profiles',
  'aliases',
  'architecture',
  'cached',
  'filename',
  'fingerprint',
  'size',
  'update_source',
  'type',
  'created_at',
  'last_used_at',
  'uploaded_at',
]);
const STRING_FIELDS = ['architecture', 'filename', 'fingerprint', 'type'] as const;
type StringField = (typeof STRING_FIELDS)[number];

function isStringField(key: string): key is StringField {
  return (STRING_FIELDS as readonly string[]).includes(key);
}

/**
 * Splits the filter box into terms the way a shell splits `lxc` arguments:
 * on whitespace, with "double" or 'single' quotes keeping spaces inside a term.
 */
export function parseFilter(text: string): string[] {
  const terms: string[] = [];
  let current = '';
  let inTerm = false;
  let quote: string | undefined;
  for (const char of text) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inTerm = true;
    } else if (/\s/.test(char)) {
      if (inTerm) terms.push(current);
      current = '';
      inTerm = false;
    } else {
      current += char;
      inTerm = true;
    }
  }
  if (inTerm) terms.push(current);
  return terms;
}

/** lxc's `dotPrefixMatch`: "u.n" matches "user.note"; the piece counts must agree. */
export function dotPrefixMatch(short: string, full: string): boolean {
  return dotPrefixMatcher(short)(full);
}

/** The same, with `short` split once for matching many names. */
function dotPrefixMatcher(short: string): (full: string) => boolean {
  const shortPieces = short.split('.');
  return (full) => {
    const fullPieces = full.split('.');
    if (shortPieces.length !== fullPieces.length) return false;
    return fullPieces.every((piece, index) => piece.startsWith(shortPieces[index] ?? ''));
  };
}

/**
 * Go's RE2 syntax and JavaScript's agree on what image filters use
 * (classes, alternation, repetition); a value either engine rejects is
 * compared literally, as lxc does when Go rejects it.
 */
function valueMatcher(value: string, ignoreCase: boolean): (candidate: string) => boolean {
  const anchored = value.includes('^') || value.includes('$') ? value : `^${value}$`;
  try {
    const expression = new RegExp(anchored, ignoreCase ? 'iu' : 'u');
    return (candidate) => expression.test(candidate);
  } catch {
    return ignoreCase
      ? (candidate) => candidate.toLowerCase() === value.toLowerCase()
      : (candidate) => candidate === value;
  }
}

/** What lxc's filter reads of an image (alias names only): a list's compact copy has just this. */
export type FilterableImage = Pick<LxdImage, 'properties' | StringField> & {
  aliases: readonly { name: string }[];
};

/** A `key=value` term on properties: which property names its key matches, and its value test. */
export interface PropertyTerm {
  keyMatches: (name: string) => boolean;
  valueMatches: (value: string) => boolean;
}

/** The term as a test of properties; undefined for a bare term or one on an image field. */
export function propertyTerm(term: string): PropertyTerm | undefined {
  const equals = term.indexOf('=');
  if (equals < 0) return undefined;
  const key = term.slice(0, equals);
  if (isStringField(key) || IMAGE_FIELDS.has(key)) return undefined;
  return {
    keyMatches: dotPrefixMatcher(key),
    valueMatches: valueMatcher(term.slice(equals + 1), false),
  };
}

export function compileFilter(terms: string[]): (image: FilterableImage) => boolean {
  const tests = terms.map((term): ((image: FilterableImage) => boolean) => {
    const property = propertyTerm(term);
    if (property !== undefined)
      return (image) =>
        Object.entries(image.properties).some(
          ([name, value]) => property.keyMatches(name) && property.valueMatches(value),
        );
    const equals = term.indexOf('=');
    if (equals >= 0) {
      const key = term.slice(0, equals);
      if (!isStringField(key)) return () => false;
      const matches = valueMatcher(term.slice(equals + 1), true);
      return (image) => matches(image[key]);
    }
    return (image) =>
      image.fingerprint.includes(term) || image.aliases.some((alias) => alias.name.includes(term));
  });
  return (image) => tests.every((test) => test(image));
}

export function filterImages<T extends FilterableImage>(images: T[], terms: string[]): T[] {
  if (terms.length === 0) return images;
  const matches = compileFilter(terms);
  return images.filter(matches);
}
