/** What people type in the transfer dialogs, read the way lxc reads its arguments. */

/** Aliases separated by commas or white space; duplicates dropped, order kept. */
export function parseAliases(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((alias) => alias !== ''))];
}

export type ParsedProperties =
  { ok: true; properties: Record<string, string> } | { ok: false; error: string };

/** `key=value` per line, as lxc image import takes them; the value may hold "=" and spaces. */
export function parseProperties(text: string): ParsedProperties {
  const properties: Record<string, string> = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const at = line.indexOf('=');
    if (at <= 0) return { ok: false, error: `Line ${index + 1}: "${line}" is not key=value.` };
    const key = line.slice(0, at).trim();
    if (/\s/.test(key))
      return { ok: false, error: `Line ${index + 1}: the key "${key}" has a space in it.` };
    properties[key] = line.slice(at + 1).trim();
  }
  return { ok: true, properties };
}
