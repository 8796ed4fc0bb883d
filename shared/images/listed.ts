/**
 * A list's compact copy, for a window to filter and sort itself: per image,
 * only what lxc's filter reads and the table's row, sent in chunks with
 * each distinct string once (a catalog repeats its os, release and
 * architecture names thousands of times). With the copy, a keystroke's
 * matches are painted in its own frame: a call to the main process answers
 * a frame later at best.
 */
import type { ImageType } from '../lxd.js';
import type { FilterableImage } from './filter.js';
import { shortFingerprint, sizeCell, typeCell, type ImageRow } from './format.js';
import type { ImageListIndex } from './view.js';

/** Images per chunk at most: a 23,000-image catalog comes in ten calls, each under 512 KiB. */
export const LIST_CHUNK_MAX = 2500;

/** An image of a window's copy: lxc's filter fields (alias names only). */
export type ListedImage = FilterableImage;

/** Rows `offset`.. of a held list of `total`, as `version` of it holds them. */
export interface ListChunk {
  version: number;
  total: number;
  offset: number;
  /** Every string the chunk uses, once. */
  strings: string[];
  /**
   * Per image, in the order encodeChunk writes them: its fingerprint, other strings as indexes
   * into `strings`, and numbers.
   */
  data: (number | string)[];
}

/** Encodes images `offset`..`offset + limit` of an index (lxc's order). */
export function encodeChunk(
  index: ImageListIndex<FilterableImage>,
  version: number,
  offset: number,
  limit: number,
): ListChunk {
  const strings: string[] = [];
  const ids = new Map<string, number>();
  const id = (text: string) => {
    let found = ids.get(text);
    if (found === undefined) {
      found = strings.length;
      strings.push(text);
      ids.set(text, found);
    }
    return found;
  };
  const data: (number | string)[] = [];
  const end = Math.min(index.size, offset + limit);
  for (let position = offset; position < end; position++) {
    const image = index.images[position];
    const row = index.rows[position];
    if (image === undefined || row === undefined) break;
    // The row's other cells are made from these again (decodeChunk), as toImageRow makes them.
    data.push(
      image.fingerprint,
      id(image.filename),
      id(image.architecture),
      id(image.type),
      id(row.alias),
      id(row.public),
      row.sizeBytes,
      id(row.uploadDate),
      row.uploadedAt,
      image.aliases.length,
    );
    for (const alias of image.aliases) data.push(id(alias.name));
    const properties = Object.entries(image.properties);
    data.push(properties.length);
    for (const [name, value] of properties) data.push(id(name), id(value));
  }
  return { version, total: index.size, offset: Math.min(offset, index.size), strings, data };
}

/** The images and rows of a chunk; throws on a chunk that does not hold what it says. */
export function decodeChunk(chunk: ListChunk): { images: ListedImage[]; rows: ImageRow[] } {
  const { strings, data } = chunk;
  let at = 0;
  const number = () => {
    const value = data[at++];
    if (typeof value !== 'number') throw new Error('The list copy ended inside an image.');
    return value;
  };
  const text = () => {
    const value = strings[number()];
    if (value === undefined) throw new Error('The list copy names a string it does not hold.');
    return value;
  };
  const images: ListedImage[] = [];
  const rows: ImageRow[] = [];
  while (at < data.length) {
    const fingerprint = data[at++];
    if (typeof fingerprint !== 'string') throw new Error('The list copy has no fingerprint here.');
    const filename = text();
    const architecture = text();
    // The main process held it as an image type; a window takes its word.
    const type = text() as ImageType;
    const alias = text();
    const yes = text();
    const sizeBytes = number();
    const uploadDate = text();
    const uploadedAt = number();
    const aliases: { name: string }[] = [];
    for (let count = number(); count > 0; count--) aliases.push({ name: text() });
    const properties: Record<string, string> = {};
    for (let count = number(); count > 0; count--) {
      const name = text();
      const value = text();
      // An own property, as JSON.parse makes, even for "__proto__".
      if (name === '__proto__')
        Object.defineProperty(properties, name, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else properties[name] = value;
    }
    images.push({ fingerprint, filename, architecture, type, aliases, properties });
    // The cells toImageRow made from these, made again.
    rows.push({
      fingerprint,
      alias,
      shortFingerprint: shortFingerprint(fingerprint),
      public: yes,
      description: properties.description ?? '',
      architecture,
      type: typeCell(type),
      size: sizeCell(sizeBytes),
      sizeBytes,
      uploadDate,
      uploadedAt,
    });
  }
  return { images, rows };
}
