// Progress of long work on a terminal: one live line rewritten in place ("⠋ starting the LCs
// [2/4] 12 s"), with a bar when the total is known; on anything else (a CI log, a pipe) plain
// lines, and only when the text changes or a tenth of the total more is done, so logs stay short.
import type { Writable } from 'node:stream';

export interface ProgressOptions {
  /** Defaults to the stream's isTTY. */
  tty?: boolean;
  /** Least time between two redraws of the live line (default 100 ms). */
  redrawMs?: number;
  now?: () => number;
}

const BAR_WIDTH = 20;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Progress {
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly started: number;
  private text = '';
  private done: number | undefined;
  private total: number | undefined;
  private lastDraw = 0;
  private lastPlain = { text: '', tenth: -1 };
  private frame = 0;
  private shown = false;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Writable & { isTTY?: boolean; columns?: number },
    private readonly options: ProgressOptions = {},
  ) {
    this.tty = options.tty ?? out.isTTY === true;
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  /** What is happening now; with `done` and `total`, how far it is. */
  update(text: string, done?: number, total?: number): void {
    this.text = text;
    this.done = done;
    this.total = total;
    if (this.tty) {
      this.draw(false);
      // The spinner and the seconds keep moving while nothing new is reported.
      this.ticker ??= setInterval(() => this.draw(true), 250).unref();
    } else {
      this.plain();
    }
  }

  /** A line that stays (above the live line on a terminal). */
  log(line: string): void {
    if (this.tty && this.shown) this.out.write('\r\x1b[2K');
    this.out.write(`${line}\n`);
    this.shown = false;
    if (this.tty && this.text) this.draw(true);
  }

  /** Clears the live line (the caller prints the outcome). */
  finish(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    if (this.tty && this.shown) this.out.write('\r\x1b[2K');
    this.shown = false;
    this.text = '';
  }

  /** The line as drawn on a terminal (also what tests read). */
  line(): string {
    const seconds = Math.floor((this.now() - this.started) / 1000);
    const { done, total } = this;
    let count = '';
    if (done !== undefined && total !== undefined && total > 0) {
      const filled = Math.round((Math.min(done, total) / total) * BAR_WIDTH);
      count = ` [${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${done}/${total}`;
    } else if (done !== undefined) {
      count = ` ${done}`;
    }
    return `${SPINNER[this.frame % SPINNER.length]} ${this.text}${count} ${seconds} s`;
  }

  private draw(force: boolean): void {
    if (!this.text) return;
    const now = this.now();
    if (!force && this.shown && now - this.lastDraw < (this.options.redrawMs ?? 100)) return;
    this.lastDraw = now;
    this.frame++;
    const width = this.out.columns ?? 100;
    this.out.write(`\r\x1b[2K${this.line().slice(0, Math.max(10, width - 1))}`);
    this.shown = true;
  }

  private plain(): void {
    const { done, total } = this;
    const tenth = done !== undefined && total ? Math.floor((Math.min(done, total) / total) * 10) : -1;
    if (this.text === this.lastPlain.text && tenth === this.lastPlain.tenth) return;
    this.lastPlain = { text: this.text, tenth };
    const count = done === undefined ? '' : total === undefined ? ` (${done})` : ` (${done}/${total})`;
    this.out.write(`${this.text}${count}\n`);
  }
}
