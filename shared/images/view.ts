/**
 * A list of images as the table shows it: the rows in `lxc image list`'s
 * order, each column's sort order, and the filter's matches, answered as a
 * window of compact rows. The main process holds one per remote and project
 * and answers a window's first rows from it; the window then indexes its own
 * compact copy (listed.ts) with the same class and works out the rest itself.
 */
import type { LxdImage } from '../lxd.js';
import { compileFilter, parseFilter, propertyTerm, type FilterableImage } from './filter.js';
import { compareListRows, toImageRow, type ImageRow } from './format.js';

/** The table's sortable columns, by the row field each sorts on (size and date by magnitude). */
export const imageSortColumns = [
  'alias',
  'shortFingerprint',
  'public',
  'description',
  'architecture',
  'type',
  'sizeBytes',
  'uploadedAt',
] as const;
export type ImageSortColumn = (typeof imageSortColumns)[number];

export interface ImageSort {
  column: ImageSortColumn;
  desc: boolean;
}

/** `lxc image list` prints rows sorted by their text, i.e. by ALIAS first. */
export const LXC_SORT: ImageSort = { column: 'alias', desc: false };

/** What the window asks for: one filter and sort, and the rows from `offset`. */
export interface ImageViewQuery {
  filter: string;
  sort: ImageSort;
  offset: number;
  limit: number;
  /** An image whose place among the matches is wanted (the selected one). */
  find?: string;
}

/** The answer: how many there are, and the rows asked for. */
export interface ImageView {
  /**
   * `none`: Hangar has no list of this remote and project yet. `kept`: the last list Hangar
   * received (earlier in this run or on disk), shown while the server is asked again.
   * `fresh`: the server's answer in this run, kept up to date by its events.
   */
  state: 'none' | 'kept' | 'fresh';
  /** Changes whenever the list does; windows of one version fit together. */
  version: number;
  /** ISO time the server sent this list. */
  fetchedAt: string | null;
  total: number;
  matched: number;
  /** Where `rows` start among the matches (moved back when `offset` was past the end). */
  offset: number;
  rows: ImageRow[];
  /** The index of `find` among the matches, -1 when it does not match; absent when not asked. */
  found?: number;
  /** How many images have an update source (`lxc image refresh` can ask it). */
  withSources: number;
}

const CACHED_FILTERS = 8;
/** Joins a row's fingerprint and alias names: a bare term without it matches the joined text iff it matches one of them. */
const SEPARATOR = '\0';

/** Drops the least recently used entries past CACHED_FILTERS (a Map iterates oldest first). */
function trim<V>(cache: Map<string, V>): void {
  for (const old of cache.keys()) {
    if (cache.size <= CACHED_FILTERS) break;
    cache.delete(old);
  }
}

/** A list of images in lxc's order, indexed: each image's rows made and sorted, and its update sources counted. */
export function indexImages(images: readonly LxdImage[]): ImageListIndex {
  const pairs = images
    .map((image) => ({ image, row: toImageRow(image) }))
    .sort((a, b) => compareListRows(a.row, b.row));
  const withSources = images.filter(
    (image) => image.update_source !== undefined && image.update_source.server !== '',
  ).length;
  return new ImageListIndex(
    pairs.map(({ image }) => image),
    pairs.map(({ row }) => row),
    withSources,
  );
}

/** What a bare term is looked for in: an image's fingerprint and alias names. */
const searchTextOf = (image: FilterableImage): string =>
  [image.fingerprint, ...image.aliases.map((alias) => alias.name)].join(SEPARATOR);

/** Adds every property name of `images` to `names`. */
function addPropertyNames(images: readonly FilterableImage[], names: Set<string>): void {
  for (const image of images) for (const name of Object.keys(image.properties)) names.add(name);
}

/**
 * One list, indexed for filtering, sorting and windows. Immutable: a change makes a new one. The
 * main process indexes whole images; a window indexes its compact copy (shared/images/listed.ts)
 * with the same code, so both filter and sort alike.
 */
export class ImageListIndex<T extends FilterableImage = LxdImage> {
  /** Each image's place, by fingerprint: made when first asked (a new list's first window does not). */
  private positionMap: Map<string, number> | undefined;
  private readonly orders = new Map<string, Int32Array>();
  /** Recent filters' matches as masks over the rows, whatever the sort (most recent last). */
  private readonly masks = new Map<string, Uint8Array>();
  /** Recent filters' matches, by filter then sort (most recent last). */
  private readonly matches = new Map<string, Int32Array>();
  /** Per row, its fingerprint and alias names joined by SEPARATOR (made on the first bare term). */
  private searchTexts: string[] | undefined;
  /** Every property name in the list, once (made on the first `key=value` term). */
  private propertyNames: string[] | undefined;
  /** A property's value in each row (undefined where a row has none), made when first filtered on. */
  private readonly propertyColumns = new Map<string, (string | undefined)[]>();

  /**
   * `images` in lxc's order (`lxc image list`: by their rows' text) and `rows`, theirs;
   * `withSources`: how many have an update source.
   */
  constructor(
    readonly images: readonly T[],
    readonly rows: readonly ImageRow[],
    readonly withSources = 0,
  ) {}

  private get positions(): Map<string, number> {
    if (this.positionMap === undefined) {
      const positions = new Map<string, number>();
      this.images.forEach((image, index) => positions.set(image.fingerprint, index));
      this.positionMap = positions;
    }
    return this.positionMap;
  }

  get size(): number {
    return this.rows.length;
  }

  /** An image's place in lxc's order (what `match` answers), undefined when not in the list. */
  positionOf(fingerprint: string): number | undefined {
    return this.positions.get(fingerprint);
  }

  image(fingerprint: string): T | undefined {
    const position = this.positions.get(fingerprint);
    return position === undefined ? undefined : this.images[position];
  }

  /**
   * The rows' order under a sort. Ties keep lxc's order, in both directions (as a stable sort of
   * lxc's rows gives, which is what the table always showed).
   */
  order(sort: ImageSort): Int32Array {
    const key = `${sort.column}:${sort.desc ? 'desc' : 'asc'}`;
    let order = this.orders.get(key);
    if (order !== undefined) return order;
    // Read only where needed: ascending by alias, the default every new list is shown in, is free.
    const columnValues = (): (string | number)[] => this.rows.map((row) => row[sort.column]);
    if (sort.desc) {
      // The ascending order read from the end, a run of equal values at a time, each run kept
      // in lxc's order: linear, where a second sort is not.
      const ascending = this.order({ column: sort.column, desc: false });
      const values = columnValues();
      order = new Int32Array(ascending.length);
      let next = 0;
      let end = ascending.length;
      while (end > 0) {
        const value = values[ascending[end - 1] ?? 0];
        let start = end - 1;
        while (start > 0 && values[ascending[start - 1] ?? 0] === value) start--;
        order.set(ascending.subarray(start, end), next);
        next += end - start;
        end = start;
      }
    } else if (sort.column === 'alias') {
      // lxc's order is by ALIAS first: ascending by alias is the order the rows already have.
      order = Int32Array.from(this.rows.keys());
    } else {
      const values = columnValues();
      // A plain array sorts about twice as fast as a typed one with a comparator.
      const positions = Array.from(this.rows.keys());
      positions.sort((a, b) => {
        const left = values[a] ?? '';
        const right = values[b] ?? '';
        if (left < right) return -1;
        if (left > right) return 1;
        return a - b;
      });
      order = Int32Array.from(positions);
    }
    this.orders.set(key, order);
    return order;
  }

  /** Which rows a filter's terms keep (1), all of them (terms are AND-ed); `key` is the terms as JSON. */
  private mask(terms: string[], key: string): Uint8Array {
    let mask = this.masks.get(key);
    if (mask === undefined) {
      mask = new Uint8Array(this.size).fill(1);
      for (const term of terms) {
        // A bare term (lxc: a substring of the fingerprint or of an alias name) is one
        // includes() per row on its joined text, unless the term holds the separator itself.
        if (!term.includes('=') && !term.includes(SEPARATOR)) {
          const texts = this.textsOfRows();
          for (let index = 0; index < mask.length; index++)
            if (mask[index] === 1 && !(texts[index] ?? '').includes(term)) mask[index] = 0;
          continue;
        }
        // A term on properties: its key is matched against each distinct name once, its value
        // against each distinct value once, and each row reads the columns of the names that matched.
        const property = propertyTerm(term);
        if (property !== undefined) {
          const columns = this.namesOfProperties()
            .filter(property.keyMatches)
            .map((name) => this.propertyColumn(name));
          const valuesSeen = new Map<string, boolean>();
          const valueMatches = (value: string) => {
            let matched = valuesSeen.get(value);
            if (matched === undefined)
              valuesSeen.set(value, (matched = property.valueMatches(value)));
            return matched;
          };
          for (let index = 0; index < mask.length; index++) {
            if (mask[index] !== 1) continue;
            let kept = false;
            for (const column of columns) {
              const value = column[index];
              if (value !== undefined && valueMatches(value)) {
                kept = true;
                break;
              }
            }
            if (!kept) mask[index] = 0;
          }
        } else {
          const matches = compileFilter([term]);
          for (let index = 0; index < mask.length; index++) {
            const image = this.images[index];
            if (mask[index] === 1 && (image === undefined || !matches(image))) mask[index] = 0;
          }
        }
      }
    } else this.masks.delete(key);
    this.masks.set(key, mask);
    trim(this.masks);
    return mask;
  }

  /**
   * Makes now what the first filter of each kind would, `slice` rows a step: a window prepares
   * its copy when it arrives, one step a task, so neither the first key typed nor any input
   * meanwhile waits for it (23k rows take tens of ms, several times that while another window
   * loads).
   */
  *preparing(slice = 2500): Generator<void, void, undefined> {
    const texts: string[] = [];
    const names = new Set<string>();
    for (let start = 0; start < this.images.length; start += slice) {
      const part = this.images.slice(start, start + slice);
      for (const image of part) texts.push(searchTextOf(image));
      addPropertyNames(part, names);
      yield;
    }
    this.searchTexts ??= texts;
    this.propertyNames ??= [...names];
  }

  private textsOfRows(): string[] {
    return (this.searchTexts ??= this.images.map(searchTextOf));
  }

  private namesOfProperties(): string[] {
    if (this.propertyNames === undefined) {
      const names = new Set<string>();
      addPropertyNames(this.images, names);
      this.propertyNames = [...names];
    }
    return this.propertyNames;
  }

  private propertyColumn(name: string): (string | undefined)[] {
    let column = this.propertyColumns.get(name);
    if (column === undefined) {
      column = this.images.map((image) =>
        Object.hasOwn(image.properties, name) ? image.properties[name] : undefined,
      );
      this.propertyColumns.set(name, column);
    }
    return column;
  }

  /** The matching rows' positions, in the sort's order. */
  match(filter: string, sort: ImageSort): Int32Array {
    const terms = parseFilter(filter);
    if (terms.length === 0) return this.order(sort);
    const filterKey = JSON.stringify(terms);
    const key = `${filterKey}\n${sort.column}:${String(sort.desc)}`;
    let matched = this.matches.get(key);
    if (matched === undefined) {
      const mask = this.mask(terms, filterKey);
      matched = this.order(sort).filter((index) => mask[index] === 1);
    } else this.matches.delete(key);
    this.matches.set(key, matched);
    trim(this.matches);
    return matched;
  }

  /** A window of the matches; an offset past the end shows the last rows. */
  window(
    query: ImageViewQuery,
  ): Pick<ImageView, 'total' | 'matched' | 'offset' | 'rows' | 'found'> {
    const matched = this.match(query.filter, query.sort);
    const offset = Math.max(0, Math.min(query.offset, matched.length - query.limit));
    const rows: ImageRow[] = [];
    for (const index of matched.subarray(offset, offset + query.limit)) {
      const row = this.rows[index];
      if (row !== undefined) rows.push(row);
    }
    const view: Pick<ImageView, 'total' | 'matched' | 'offset' | 'rows' | 'found'> = {
      total: this.size,
      matched: matched.length,
      offset,
      rows,
    };
    if (query.find !== undefined) {
      const position = this.positions.get(query.find);
      view.found = position === undefined ? -1 : matched.indexOf(position);
    }
    return view;
  }

  /** The fingerprints of the matches from `from` to `to` (inclusive): a range or all, to select. */
  fingerprints(filter: string, sort: ImageSort, from: number, to: number): string[] {
    const matched = this.match(filter, sort);
    const fingerprints: string[] = [];
    for (const index of matched.subarray(Math.max(0, from), to + 1)) {
      const row = this.rows[index];
      if (row !== undefined) fingerprints.push(row.fingerprint);
    }
    return fingerprints;
  }
}
