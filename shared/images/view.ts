/**
 * A list of images as the table shows it, without sending it: the rows in
 * `lxc image list`'s order, each column's sort order, and the filter's
 * matches, answered as a window of compact rows. The main process holds one
 * per remote and project; the window only ever receives what it paints.
 */
import type { LxdImage } from '../lxd.js';
import { compileFilter, parseFilter } from './filter.js';
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

/** One list, indexed for filtering, sorting and windows. Immutable: a change makes a new one. */
export class ImageListIndex {
  /** The images in lxc's order, and their rows. */
  readonly images: readonly LxdImage[];
  readonly rows: readonly ImageRow[];
  readonly withSources: number;
  private readonly positions = new Map<string, number>();
  private readonly orders = new Map<string, Int32Array>();
  /** Recent filters' matches, by filter then sort (most recent last). */
  private readonly matches = new Map<string, Int32Array>();

  constructor(images: readonly LxdImage[]) {
    const pairs = images
      .map((image) => ({ image, row: toImageRow(image) }))
      .sort((a, b) => compareListRows(a.row, b.row));
    this.images = pairs.map(({ image }) => image);
    this.rows = pairs.map(({ row }) => row);
    this.images.forEach((image, index) => this.positions.set(image.fingerprint, index));
    this.withSources = this.images.filter(
      (image) => image.update_source !== undefined && image.update_source.server !== '',
    ).length;
  }

  get size(): number {
    return this.rows.length;
  }

  image(fingerprint: string): LxdImage | undefined {
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
    order = Int32Array.from(this.rows.keys());
    // lxc's order is by ALIAS first: ascending by alias is the order the rows already have.
    if (key !== 'alias:asc') {
      const values: (string | number)[] = this.rows.map((row) => row[sort.column]);
      const sign = sort.desc ? -1 : 1;
      order.sort((a, b) => {
        const left = values[a] ?? '';
        const right = values[b] ?? '';
        if (left < right) return -sign;
        if (left > right) return sign;
        return a - b;
      });
    }
    this.orders.set(key, order);
    return order;
  }

  /** The matching rows' positions, in the sort's order. */
  match(filter: string, sort: ImageSort): Int32Array {
    const terms = parseFilter(filter);
    if (terms.length === 0) return this.order(sort);
    const key = `${JSON.stringify(terms)}\n${sort.column}:${String(sort.desc)}`;
    let matched = this.matches.get(key);
    if (matched === undefined) {
      const matches = compileFilter(terms);
      const keep = new Uint8Array(this.size);
      this.images.forEach((image, index) => {
        if (matches(image)) keep[index] = 1;
      });
      matched = this.order(sort).filter((index) => keep[index] === 1);
    } else this.matches.delete(key);
    this.matches.set(key, matched);
    for (const old of this.matches.keys()) {
      if (this.matches.size <= CACHED_FILTERS) break;
      this.matches.delete(old);
    }
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
