import { StringDecoder } from 'string_decoder';

/** One physical line of the input, without its terminator. */
export interface Line {
  /** 1-based physical line number. */
  line: number;
  text: string;
  /** What ended it: `\n`, `\r\n`, or nothing for the last line of a file without a final newline. */
  terminator: '' | '\n' | '\r\n';
  /** The line was longer than the limit: `text` holds its first `maxLineChars` characters only. */
  truncated: boolean;
}

export const DEFAULT_MAX_LINE_CHARS = 64 * 1024;

/**
 * Bytes to lines, incrementally: UTF-8 decoded with characters split across chunks kept whole
 * (StringDecoder), a leading byte-order mark dropped, `\n` and `\r\n` both ending a line. Memory is
 * bounded by the chunk plus one line: a line longer than `maxLineChars` is cut (and flagged) and the
 * rest of it skipped up to its newline.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private overflow = false;
  private lineNo = 0;
  private started = false;

  constructor(private readonly maxLineChars = DEFAULT_MAX_LINE_CHARS) {}

  /** Appends the lines completed by this chunk to `out`. */
  push(chunk: Buffer | string, out: Line[]): void {
    this.consume(typeof chunk === 'string' ? chunk : this.decoder.write(chunk), out);
  }

  /** Appends the last line (when the input did not end with a newline). */
  end(out: Line[]): void {
    this.consume(this.decoder.end(), out);
    if (this.partial.length > 0 || this.overflow) this.emit(this.partial, '', out);
    this.partial = '';
    this.overflow = false;
  }

  private consume(text: string, out: Line[]): void {
    if (text.length === 0) return;
    let pos = 0;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) pos = 1;
    }
    for (;;) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) {
        this.append(text, pos, text.length);
        return;
      }
      this.append(text, pos, nl);
      let line = this.partial;
      let terminator: Line['terminator'] = '\n';
      if (line.endsWith('\r')) {
        line = line.slice(0, -1);
        terminator = '\r\n';
      }
      this.emit(line, terminator, out);
      this.partial = '';
      this.overflow = false;
      pos = nl + 1;
    }
  }

  private append(text: string, from: number, to: number): void {
    if (from >= to) return;
    if (this.overflow) {
      // Keep a trailing \r visible so a CRLF split across chunks is still recognised.
      if (text.charCodeAt(to - 1) === 13) this.partial = `${this.partial.replace(/\r$/, '')}\r`;
      else this.partial = this.partial.replace(/\r$/, '');
      return;
    }
    const room = this.maxLineChars - this.partial.length;
    if (to - from <= room) {
      this.partial += text.slice(from, to);
      return;
    }
    this.partial += text.slice(from, from + room);
    this.overflow = true;
    if (text.charCodeAt(to - 1) === 13) this.partial += '\r';
  }

  private emit(text: string, terminator: Line['terminator'], out: Line[]): void {
    this.lineNo += 1;
    out.push({ line: this.lineNo, text, terminator, truncated: this.overflow });
  }
}
