import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../sse';

// Feeds the text cut at every given offset, so a test shows a split point does not matter.
function feedInPieces(text: string, cuts: number[]): { events: SseEvent[]; comments: string[] } {
  const comments: string[] = [];
  const parser = new SseParser((comment) => comments.push(comment));
  const events: SseEvent[] = [];
  let start = 0;
  for (const cut of [...cuts, text.length]) {
    events.push(...parser.feed(text.slice(start, cut)));
    start = cut;
  }
  return { events, comments };
}

function feedWhole(text: string) {
  return feedInPieces(text, []);
}

const kReviewsStream =
  ': hello\r\n' +
  'event: reviews\r\n' +
  'id: 7\r\n' +
  'data: {"reviews":\r\n' +
  'data: [{"id":"r-1"}]}\r\n' +
  '\r\n' +
  ': keep-alive\r\n' +
  '\r\n' +
  'event: reviews\r\n' +
  'data: {"reviews":[]}\r\n' +
  '\r\n';

describe('SseParser', () => {
  it('reads a named event with one data line', () => {
    const { events } = feedWhole('event: reviews\ndata: {"reviews":[]}\n\n');
    expect(events).toEqual([{ type: 'reviews', data: '{"reviews":[]}', lastEventId: '' }]);
  });

  it('names an event without an event field "message"', () => {
    expect(feedWhole('data: x\n\n').events[0].type).toBe('message');
  });

  it('joins several data lines with a newline', () => {
    const { events } = feedWhole('data: first\ndata: second\ndata:third\n\n');
    expect(events[0].data).toBe('first\nsecond\nthird');
  });

  it('removes one space after the colon and no more', () => {
    expect(feedWhole('data:  two spaces\n\n').events[0].data).toBe(' two spaces');
  });

  it('keeps colons inside the value', () => {
    expect(feedWhole('data: {"a":"b:c"}\n\n').events[0].data).toBe('{"a":"b:c"}');
  });

  it('accepts LF, CRLF and CR line endings alike', () => {
    for (const ending of ['\n', '\r\n', '\r']) {
      const text = `event: e${ending}data: a${ending}data: b${ending}${ending}`;
      expect(feedWhole(text).events).toEqual([{ type: 'e', data: 'a\nb', lastEventId: '' }]);
    }
  });

  it('gives the same events whatever the chunk boundaries, one cut', () => {
    const whole = feedWhole(kReviewsStream);
    expect(whole.events).toHaveLength(2);
    for (let cut = 0; cut <= kReviewsStream.length; cut++) {
      expect(feedInPieces(kReviewsStream, [cut])).toEqual(whole);
    }
  });

  it('gives the same events when fed one character at a time', () => {
    const cuts = Array.from({ length: kReviewsStream.length }, (_, index) => index);
    expect(feedInPieces(kReviewsStream, cuts)).toEqual(feedWhole(kReviewsStream));
  });

  it('does not read a CRLF split across chunks as two line endings', () => {
    // Were the LF read as a second line end, the empty line would dispatch a half event.
    const { events } = feedInPieces('data: a\r\ndata: b\r\n\r\n', [8]);
    expect(events).toEqual([{ type: 'message', data: 'a\nb', lastEventId: '' }]);
  });

  it('passes comments to the callback and never as events', () => {
    const { events, comments } = feedWhole(kReviewsStream);
    expect(comments).toEqual(['hello', 'keep-alive']);
    expect(events.map((event) => event.type)).toEqual(['reviews', 'reviews']);
  });

  it('reassembles the multi-line JSON of the reviews event', () => {
    const { events } = feedWhole(kReviewsStream);
    expect(JSON.parse(events[0].data)).toEqual({ reviews: [{ id: 'r-1' }] });
    expect(JSON.parse(events[1].data)).toEqual({ reviews: [] });
  });

  it('carries the last id over to later events', () => {
    const { events } = feedWhole(kReviewsStream);
    expect(events[0].lastEventId).toBe('7');
    expect(events[1].lastEventId).toBe('7');
  });

  it('ignores an id containing NUL', () => {
    expect(feedWhole('id: 1\n\nid: 2\u00003\ndata: x\n\n').events[0].lastEventId).toBe('1');
  });

  it('does not dispatch an event without data, and forgets its type', () => {
    const { events } = feedWhole('event: reviews\n\ndata: x\n\n');
    expect(events).toEqual([{ type: 'message', data: 'x', lastEventId: '' }]);
  });

  it('dispatches a bare "data" line as an empty string', () => {
    expect(feedWhole('data\n\n').events).toEqual([{ type: 'message', data: '', lastEventId: '' }]);
  });

  it('keeps an unfinished event until its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.feed('data: x\n')).toEqual([]);
    expect(parser.feed('\n')).toHaveLength(1);
  });

  it('drops an event the stream ended in the middle of', () => {
    const parser = new SseParser();
    expect(parser.feed('data: never finished')).toEqual([]);
  });

  it('ignores unknown fields and reads retry when it is all digits', () => {
    const parser = new SseParser();
    const events = parser.feed('foo: bar\nretry: 2500\nretry: soon\ndata: x\n\n');
    expect(events).toHaveLength(1);
    expect(parser.retryMs).toBe(2500);
  });

  it('skips a byte order mark at the start of the stream only', () => {
    const parser = new SseParser();
    expect(parser.feed('\ufeffdata: a\n\n')[0].data).toBe('a');
    expect(parser.feed('\ufeffdata: b\n\n')).toEqual([]);
  });

  it('reads several events from one chunk', () => {
    expect(feedWhole('data: 1\n\ndata: 2\n\ndata: 3\n\n').events.map((event) => event.data)).toEqual([
      '1',
      '2',
      '3',
    ]);
  });
});
