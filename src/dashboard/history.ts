// Bounded history of the plotted series: each series keeps its newest `capacity` points, so a
// dashboard left running for weeks holds the same memory as one started a minute ago.

/** One point: milliseconds since the epoch (or a round number for per-round series) and a value. */
export type Point = [x: number, y: number];

export class Series {
  private readonly points: Point[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`series capacity must be a positive integer, got ${capacity}`);
  }

  /** Appends a point; a point with the same x as the last replaces it (a repeated report). */
  add(x: number, y: number): void {
    const last = this.points[this.points.length - 1];
    if (last && last[0] === x) {
      last[1] = y;
      return;
    }
    this.points.push([x, y]);
    if (this.points.length > this.capacity) this.points.splice(0, this.points.length - this.capacity);
  }

  get last(): Point | undefined {
    return this.points[this.points.length - 1];
  }

  get length(): number {
    return this.points.length;
  }

  toJSON(): Point[] {
    return this.points.map((p) => [p[0], p[1]]);
  }
}

/** The series of one resource, by name (`inferences`, `accuracy`, …), created on first use. */
export class SeriesSet {
  private readonly series = new Map<string, Series>();

  constructor(private readonly capacity: number) {}

  add(name: string, x: number, y: number): void {
    let s = this.series.get(name);
    if (!s) {
      s = new Series(this.capacity);
      this.series.set(name, s);
    }
    s.add(x, y);
  }

  get(name: string): Series | undefined {
    return this.series.get(name);
  }

  toJSON(): Record<string, Point[]> {
    return Object.fromEntries([...this.series].map(([name, s]) => [name, s.toJSON()]));
  }
}
