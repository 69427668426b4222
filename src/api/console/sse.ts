// A Server-Sent Events parser for streams read with fetch(): EventSource cannot send an
// Authorization header, so the console reads the bytes itself. It follows the WHATWG
// "event stream interpretation" rules: lines end with CRLF, LF or CR, and a chunk may end
// anywhere, even between the CR and the LF of one line ending.

export interface SseEvent {
  // The `event:` field, or "message" when the event named none.
  type: string;
  // The `data:` lines joined with "\n".
  data: string;
  // The last `id:` seen on the stream, as the spec defines it (it carries over to later events).
  lastEventId: string;
}

export class SseParser {
  private pendingLine = '';
  // A chunk that ended with CR may have its LF at the start of the next one.
  private skipLeadingLf = false;
  private atStreamStart = true;
  private dataLines: string[] = [];
  private eventType = '';
  private lastEventId = '';
  // The server's `retry:` in milliseconds, when it sent one.
  retryMs: number | null = null;

  // comment: called with the text of each comment line (`: keep-alive`), which proves the
  // connection is alive even when no event comes.
  constructor(private readonly onComment?: (text: string) => void) {}

  // Takes the next piece of decoded text and answers the events it completed.
  feed(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.atStreamStart && text.length > 0) {
      // One leading byte order mark is not part of the first line.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.atStreamStart = false;
    }
    if (this.skipLeadingLf && text.length > 0) {
      if (text[0] === '\n') text = text.slice(1);
      this.skipLeadingLf = false;
    }
    const events: SseEvent[] = [];
    let lineStart = 0;
    for (let index = 0; index < text.length; index++) {
      const character = text[index];
      if (character !== '\n' && character !== '\r') continue;
      const line = this.pendingLine + text.slice(lineStart, index);
      this.pendingLine = '';
      if (character === '\r') {
        if (index + 1 < text.length) {
          if (text[index + 1] === '\n') index++;
        } else {
          this.skipLeadingLf = true;
        }
      }
      lineStart = index + 1;
      const event = this.processLine(line);
      if (event) events.push(event);
    }
    this.pendingLine += text.slice(lineStart);
    return events;
  }

  private processLine(line: string): SseEvent | null {
    if (line === '') return this.dispatch();
    if (line[0] === ':') {
      this.onComment?.(line.slice(1).replace(/^ /, ''));
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        break;
      case 'id':
        // An id with NUL is ignored, as the spec says, so it cannot poison Last-Event-ID.
        if (!value.includes('\u0000')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        // Unknown fields are ignored.
        break;
    }
    return null;
  }

  private dispatch(): SseEvent | null {
    const hasData = this.dataLines.length > 0;
    const event: SseEvent = {
      type: this.eventType === '' ? 'message' : this.eventType,
      data: this.dataLines.join('\n'),
      lastEventId: this.lastEventId,
    };
    this.dataLines = [];
    this.eventType = '';
    // An event without a data line is not dispatched.
    return hasData ? event : null;
  }
}
