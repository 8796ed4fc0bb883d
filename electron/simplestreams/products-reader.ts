/**
 * A products file read as its bytes arrive: each product is parsed, checked
 * and turned into images while the rest of the file downloads. A catalog of
 * 20,000 images is ~15 MB, and reading it only after its last byte made the
 * user wait for the download and then ~300 ms of parsing; now the parsing
 * happens during the download, on a slow network almost all of it.
 *
 * Only the file's outline (the root object and the `products` object) is
 * scanned here; every value is read by JSON.parse. Anything unexpected (bad
 * JSON, a product of the wrong shape, bytes after the end) stops the reader,
 * and the file is then read whole by parseProducts, so a broken file gets the
 * same answer and the same error message as before. Pure: no I/O.
 */
import {
  checkProductsFile,
  productImages,
  readProduct,
  type Candidate,
  type FileImages,
} from './catalog.js';
import type { JsonObject } from './json-shape.js';

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
/** Where a number, true, false or null ends. */
const endsPrimitive = (byte: number) =>
  isSpace(byte) || byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET;

/** JSON.parse orders an object's array-index keys first, ascending: products keep that order. */
const isArrayIndex = (key: string) =>
  /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 4_294_967_295;

/**
 * Where the scan is: `memberOrEnd` right after `{`, `member` after `,`, `key` inside a key,
 * `colon` after a key, `value` after `:`, `inValue` inside a value, `next` after a value.
 */
type Step =
  'start' | 'memberOrEnd' | 'member' | 'key' | 'colon' | 'value' | 'inValue' | 'next' | 'end';

export class ProductsReader {
  /**
   * Bytes from the start of the token being scanned (a key or a value) on, in `space`, which
   * grows by doubling: a product that spans many chunks is not copied again with each one.
   */
  private data: Buffer = Buffer.alloc(0);
  private space: Buffer = Buffer.alloc(0);
  /** Where the scan goes on in `data`, and where the current token starts. */
  private at = 0;
  private tokenStart = 0;
  private step: Step = 'start';
  /** In the products object (else in the root object). */
  private inProducts = false;
  private key = '';
  /** The value being scanned: its nesting, and whether the scan is inside one of its strings. */
  private depth = 0;
  private inString = false;
  private broken = false;
  /** The root object's other fields, as JSON.parse gives them. */
  private readonly root = Object.create(null) as JsonObject;
  /** Each product's images, by key, in the file's order (a repeated key keeps its place). */
  private products = new Map<string, Candidate[]>();

  /** Takes the next bytes of the file. Never throws: a file it cannot follow is read whole later. */
  push(chunk: Buffer): void {
    if (this.broken) return;
    const kept = this.data.length - this.tokenStart;
    if (kept + chunk.length > this.space.length) {
      const space = Buffer.allocUnsafe(Math.max(2 * this.space.length, kept + chunk.length));
      this.data.copy(space, 0, this.tokenStart);
      this.space = space;
    } else if (this.tokenStart > 0) this.space.copyWithin(0, this.tokenStart, this.data.length);
    chunk.copy(this.space, kept);
    this.data = this.space.subarray(0, kept + chunk.length);
    this.at -= this.tokenStart;
    this.tokenStart = 0;
    try {
      this.scan();
    } catch {
      this.broken = true;
    }
    if (this.broken) this.data = this.space = Buffer.alloc(0);
  }

  /**
   * The file's images, product by product as parseProducts orders them, once the last byte was
   * pushed; undefined when the reader stopped or the file is incomplete (read it whole then).
   */
  end(): FileImages | undefined {
    if (this.broken || this.step !== 'end') return undefined;
    // A "products" that is not an object (null aside) is an error parseProducts words.
    const other = this.root.products;
    if (other !== undefined && other !== null) return undefined;
    try {
      checkProductsFile(this.root);
    } catch {
      return undefined;
    }
    const keys = [...this.products.keys()];
    const indexes = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
    const ordered =
      indexes.length === 0 ? keys : [...indexes, ...keys.filter((key) => !isArrayIndex(key))];
    return ordered.map((key) => this.products.get(key) ?? []);
  }

  private fail(): void {
    this.broken = true;
  }

  private scan(): void {
    const { data } = this;
    const length = data.length;
    while (this.at < length && !this.broken) {
      const step = this.step;
      if (step === 'inValue' || step === 'key') {
        if (!this.scanToken()) return;
        continue;
      }
      const byte = data[this.at] ?? 0;
      if (isSpace(byte)) {
        this.at++;
        continue;
      }
      switch (step) {
        case 'start':
          this.expect(byte, OPEN_BRACE, 'memberOrEnd');
          break;
        case 'memberOrEnd':
        case 'member':
          if (byte === QUOTE) {
            this.step = 'key';
            this.tokenStart = this.at;
            this.inString = true;
            this.at++;
          } else if (byte === CLOSE_BRACE && step === 'memberOrEnd') this.closeObject();
          else this.fail();
          break;
        case 'colon':
          this.expect(byte, COLON, 'value');
          break;
        case 'value':
          if (!this.inProducts && this.key === 'products' && byte === OPEN_BRACE) {
            // A repeated "products" replaces the earlier one, as in JSON.parse.
            this.products = new Map();
            delete this.root.products;
            this.inProducts = true;
            this.step = 'memberOrEnd';
            this.at++;
          } else {
            this.step = 'inValue';
            this.tokenStart = this.at;
            this.depth = 0;
            this.inString = false;
          }
          break;
        case 'next':
          if (byte === CLOSE_BRACE) this.closeObject();
          else this.expect(byte, COMMA, 'member');
          break;
        case 'end':
          this.fail();
          break;
      }
    }
  }

  /** The outline's next byte must be `wanted`; past it, the scan is at `next`. */
  private expect(byte: number, wanted: number, next: Step): void {
    if (byte !== wanted) {
      this.fail();
      return;
    }
    this.step = next;
    this.at++;
  }

  private closeObject(): void {
    this.at++;
    if (this.inProducts) {
      this.inProducts = false;
      this.step = 'next';
    } else this.step = 'end';
  }

  /**
   * Scans the key or value under way; true once it is complete and taken, false when the data
   * ran out first (the scan goes on with the next chunk).
   */
  private scanToken(): boolean {
    const { data } = this;
    const length = data.length;
    let at = this.at;
    let { depth, inString } = this;
    const first = data[this.tokenStart] ?? 0;
    const compound = first === OPEN_BRACE || first === OPEN_BRACKET || first === QUOTE;
    let done = false;
    while (at < length) {
      if (inString) {
        const quote = data.indexOf(QUOTE, at);
        if (quote === -1) {
          at = length;
          break;
        }
        // Escaped when an odd number of backslashes precedes it.
        let slashes = 0;
        while (data[quote - 1 - slashes] === BACKSLASH) slashes++;
        at = quote + 1;
        if (slashes % 2 === 1) continue;
        inString = false;
        if (depth === 0) {
          done = true;
          break;
        }
        continue;
      }
      const byte = data[at] ?? 0;
      if (!compound) {
        if (endsPrimitive(byte)) {
          done = true;
          break;
        }
        at++;
        continue;
      }
      at++;
      if (byte === QUOTE) inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) {
          done = true;
          break;
        }
      }
    }
    this.at = at;
    this.depth = depth;
    this.inString = inString;
    // A number at the very end of the data may go on in the next chunk.
    if (!done) return false;
    this.take(JSON.parse(data.toString('utf8', this.tokenStart, at)) as unknown);
    this.tokenStart = at;
    return true;
  }

  private take(value: unknown): void {
    if (this.step === 'key') {
      // A key starts with a quote: JSON.parse gave a string or threw.
      this.key = String(value);
      this.step = 'colon';
      return;
    }
    this.step = 'next';
    if (!this.inProducts) {
      if (this.key === 'products') this.products = new Map();
      this.root[this.key] = value;
      return;
    }
    const images = productImages(readProduct(this.key, value));
    // A repeated key keeps its first place and its last value, as in JSON.parse.
    this.products.set(this.key, images);
  }
}
