/**
 * Compact storage for the lineage index: interned strings (one copy of each artifact name,
 * emitter, type, tag) and growable typed-array columns, so a PEM costs a few numbers instead of an
 * object with its own strings.
 */

/** Each distinct string once; a string is then a small integer. */
export class Interner {
  readonly #ids = new Map<string, number>();
  readonly #values: string[] = [];

  /** The number of `value`, adding it when new. */
  intern(value: string): number {
    let id = this.#ids.get(value);
    if (id === undefined) {
      id = this.#values.length;
      this.#ids.set(value, id);
      this.#values.push(value);
    }
    return id;
  }

  /** The number of `value`, or -1 when it was never interned. */
  find(value: string): number {
    return this.#ids.get(value) ?? -1;
  }

  value(id: number): string {
    return this.#values[id] ?? '';
  }

  get size(): number {
    return this.#values.length;
  }
}

type TypedArray = Int32Array | Float64Array | Uint8Array;

/** A typed array that doubles when full; reads past the end give the fill value. */
class Column<A extends TypedArray> {
  data: A;
  readonly #make: (length: number) => A;
  readonly #fill: number;

  constructor(make: (length: number) => A, fill: number, capacity = 1024) {
    this.#make = make;
    this.#fill = fill;
    this.data = make(capacity);
    if (fill !== 0) this.data.fill(fill);
  }

  get(i: number): number {
    return i < this.data.length ? this.data[i]! : this.#fill;
  }

  set(i: number, value: number): void {
    if (i >= this.data.length) this.#grow(i + 1);
    this.data[i] = value;
  }

  #grow(min: number): void {
    let length = this.data.length * 2;
    while (length < min) length *= 2;
    const next = this.#make(length);
    if (this.#fill !== 0) next.fill(this.#fill, this.data.length);
    next.set(this.data as never);
    this.data = next;
  }

  get bytes(): number {
    return this.data.byteLength;
  }
}

export class IntColumn extends Column<Int32Array> {
  constructor(fill = -1) {
    super((n) => new Int32Array(n), fill);
  }
}

export class FloatColumn extends Column<Float64Array> {
  constructor() {
    super((n) => new Float64Array(n), Number.NaN);
  }
}

export class FlagColumn extends Column<Uint8Array> {
  constructor() {
    super((n) => new Uint8Array(n), 0);
  }
}

/** An append-only pool of integers (the artifact links of every PEM, back to back). */
export class IntPool {
  data = new Int32Array(4096);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  get bytes(): number {
    return this.data.byteLength;
  }
}
