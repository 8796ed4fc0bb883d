/**
 * The filter of `lxc image list [<remote>:] [<filter>...]`, as LXD's lxc
 * client applies it (lxc/image.go `imageShouldShow`, lxc/list.go
 * `dotPrefixMatch`):
 * - every term must match (terms are AND-ed);
 * - a bare term matches when it is a substring of any alias name or of the
 *   fingerprint (case-sensitive);
 * - `key=value` matches a property whose name matches `key` piece by piece
 *   (split on "."; each piece of `key` a prefix of the property's piece,
 *   same number of pieces), and whose value matches `value` as a regular
 *   expression, anchored with ^…$ unless the value contains ^ or $; a value
 *   that is not a valid regular expression is compared literally.
 */
import type { LxdImage } from '../lxd.js';

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
  const shortPieces = short.split('.');
  const fullPieces = full.split('.');
  if (shortPieces.length !== fullPieces.length) return false;
  return fullPieces.every((piece, index) => piece.startsWith(shortPieces[index] ?? ''));
}

/**
 * Go's RE2 syntax and JavaScript's agree on what image filters use
 * (classes, alternation, repetition); a value either engine rejects is
 * compared literally, as lxc does when Go rejects it.
 */
function valueMatcher(value: string): (candidate: string) => boolean {
  const anchored = value.includes('^') || value.includes('$') ? value : `^${value}$`;
  try {
    const expression = new RegExp(anchored, 'u');
    return (candidate) => expression.test(candidate);
  } catch {
    return (candidate) => candidate === value;
  }
}

type FilterableImage = Pick<LxdImage, 'aliases' | 'fingerprint' | 'properties'>;

export function compileFilter(terms: string[]): (image: FilterableImage) => boolean {
  const tests = terms.map((term): ((image: FilterableImage) => boolean) => {
    const equals = term.indexOf('=');
    if (equals >= 0) {
      const key = term.slice(0, equals);
      const matches = valueMatcher(term.slice(equals + 1));
      return (image) =>
        Object.entries(image.properties).some(
          ([name, value]) => dotPrefixMatch(key, name) && matches(value),
        );
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
