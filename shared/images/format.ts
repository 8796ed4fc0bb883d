/**
 * How `lxc image list` and `lxc image info` (LXD 5.0) print an image, so a
 * user sees in Hangar exactly what the CLI shows them.
 */
import type { LxdImage } from '../lxd.js';

/** ALIAS column: the shortest alias (the earliest of equals), and "(N more)" for the others. */
export function aliasCell(image: Pick<LxdImage, 'aliases'>): string {
  let shortest = '';
  for (const { name } of image.aliases) {
    if (shortest === '') shortest = name;
    else if (name.length !== 0 && name.length < shortest.length) shortest = name;
  }
  return image.aliases.length > 1 ? `${shortest} (${image.aliases.length - 1} more)` : shortest;
}

/** FINGERPRINT column: the first 12 characters. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, 12);
}

export function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

/** TYPE column: CONTAINER or VIRTUAL-MACHINE. */
export function typeCell(type: string): string {
  return (type || 'container').toUpperCase();
}

/** SIZE as lxc prints it: mebibytes with two decimals, written "MB". */
export function sizeCell(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)}MB`;
}

/** LXD sends the zero time for "never": 0001-01-01 or the Unix epoch. */
export function isUnsetTime(value: string | undefined): boolean {
  if (value === undefined || value === '') return true;
  const time = Date.parse(value);
  return Number.isNaN(time) || time <= 0;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  zone: string;
}

// Building a formatter costs far more than using one: keep one per time zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

function zonedParts(value: string, timeZone: string): ZonedParts {
  // UTC, what lxc prints, without Intl: formatToParts costs ~7 µs, 150 ms for a 23,000-image list.
  if (timeZone === 'UTC') {
    const date = new Date(value);
    return {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
      zone: 'UTC',
    };
  }
  const format = formatterFor(timeZone);
  const parts = Object.fromEntries(
    format.formatToParts(new Date(value)).map((part) => [part.type, part.value]),
  );
  const number = (key: string) => Number(parts[key] ?? '0');
  return {
    year: number('year'),
    month: number('month'),
    day: number('day'),
    hour: number('hour'),
    minute: number('minute'),
    zone: parts.timeZoneName ?? '',
  };
}

const pad = (value: number) => String(value).padStart(2, '0');

/**
 * The UTC dates already written: a catalog's images share a few hundred upload times (a serial's
 * day), so a 23,000-image list writes each once. Bounded: cleared when full.
 */
const utcListDates = new Map<string, string>();
const UTC_LIST_DATES = 4096;

/** UPLOAD DATE column: Go layout "Jan 2, 2006 at 3:04pm (MST)", in UTC as lxc prints it. */
export function listDate(value: string, timeZone = 'UTC'): string {
  if (timeZone !== 'UTC') return writeListDate(value, timeZone);
  let date = utcListDates.get(value);
  if (date === undefined) {
    date = writeListDate(value, timeZone);
    if (utcListDates.size >= UTC_LIST_DATES) utcListDates.clear();
    utcListDates.set(value, date);
  }
  return date;
}

function writeListDate(value: string, timeZone: string): string {
  if (isUnsetTime(value)) return '';
  const p = zonedParts(value, timeZone);
  const hour12 = p.hour % 12 === 0 ? 12 : p.hour % 12;
  return `${MONTHS[p.month - 1] ?? ''} ${p.day}, ${p.year} at ${hour12}:${pad(p.minute)}${p.hour < 12 ? 'am' : 'pm'} (${p.zone})`;
}

/** `lxc image info` timestamps: Go layout "2006/01/02 15:04 MST" in UTC, or "never". */
export function infoDate(value: string, timeZone = 'UTC'): string {
  if (isUnsetTime(value)) return 'never';
  const p = zonedParts(value, timeZone);
  return `${p.year}/${pad(p.month)}/${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)} ${p.zone}`;
}

/** The rows of the image table, one per column of `lxc image list`. */
export interface ImageRow {
  fingerprint: string;
  alias: string;
  shortFingerprint: string;
  public: string;
  description: string;
  architecture: string;
  type: string;
  size: string;
  /** Raw values, so sorting by size and date is by magnitude, not text. */
  sizeBytes: number;
  uploadDate: string;
  uploadedAt: number;
}

export function toImageRow(image: LxdImage, timeZone?: string): ImageRow {
  return {
    fingerprint: image.fingerprint,
    alias: aliasCell(image),
    shortFingerprint: shortFingerprint(image.fingerprint),
    public: yesNo(image.public),
    description: image.properties.description ?? '',
    architecture: image.architecture,
    type: typeCell(image.type),
    size: sizeCell(image.size),
    sizeBytes: image.size,
    uploadDate: listDate(image.uploaded_at, timeZone),
    uploadedAt: Date.parse(image.uploaded_at) || 0,
  };
}

/** Text order (JavaScript's <, as the table's sort always was). */
const byText = (a: string, b: string): number => (a === b ? 0 : a < b ? -1 : 1);

/**
 * `lxc image list` sorts whole rows as text, column by column: ties on ALIAS fall to FINGERPRINT.
 * Each column is read by name: a loop over column names made every read a generic keyed one, and
 * sorting a 23,000-image catalog took three times as long.
 */
export function compareListRows(a: ImageRow, b: ImageRow): number {
  return (
    byText(a.alias, b.alias) ||
    byText(a.shortFingerprint, b.shortFingerprint) ||
    byText(a.public, b.public) ||
    byText(a.description, b.description) ||
    byText(a.architecture, b.architecture) ||
    byText(a.type, b.type) ||
    byText(a.size, b.size) ||
    byText(a.uploadDate, b.uploadDate)
  );
}

/** Everything `lxc image info` prints, in its order; properties sorted by key for a stable read. */
export interface ImageInfo {
  fingerprint: string;
  size: string;
  architecture: string;
  type: string;
  public: string;
  timestamps: { label: 'Created' | 'Uploaded' | 'Expires' | 'Last used'; value: string }[];
  properties: [string, string][];
  aliases: { name: string; description: string }[];
  cached: string;
  autoUpdate: string;
  source: { server: string; protocol: string; alias: string } | undefined;
  profiles: string[];
}

export function toImageInfo(image: LxdImage, timeZone?: string): ImageInfo {
  const source = image.update_source;
  return {
    fingerprint: image.fingerprint,
    size: sizeCell(image.size),
    architecture: image.architecture,
    type: image.type,
    public: yesNo(image.public),
    // Like lxc, "Created" is left out when unknown; the others say "never".
    timestamps: [
      ...(isUnsetTime(image.created_at)
        ? []
        : [{ label: 'Created' as const, value: infoDate(image.created_at, timeZone) }]),
      { label: 'Uploaded', value: infoDate(image.uploaded_at, timeZone) },
      { label: 'Expires', value: infoDate(image.expires_at, timeZone) },
      { label: 'Last used', value: infoDate(image.last_used_at, timeZone) },
    ],
    properties: Object.entries(image.properties).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    aliases: image.aliases.map(({ name, description }) => ({ name, description })),
    cached: yesNo(image.cached),
    autoUpdate: image.auto_update ? 'enabled' : 'disabled',
    source:
      source === undefined || source.server === ''
        ? undefined
        : { server: source.server, protocol: source.protocol, alias: source.alias },
    profiles: image.profiles ?? [],
  };
}
