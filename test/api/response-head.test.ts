import { describe, expect, it } from 'vitest';
import { ResponseHeadError, headEnd, parseResponseHead } from '../../src/api/response-head.js';

const head = (text: string) => {
  const buf = Buffer.from(text, 'latin1');
  return parseResponseHead(buf, headEnd(buf, buf.length));
};

describe('response heads', () => {
  it('find the end of the head only once its blank line has arrived, also when it straddles two reads', () => {
    const buf = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc', 'latin1');
    expect(headEnd(buf, 37)).toBe(-1);
    expect(headEnd(buf, 38, 37)).toBe(38);
    expect(headEnd(buf, buf.length)).toBe(38);
  });

  it('read the status, the first value of each header by lower-case name, and the Content-Length', () => {
    const h = head('HTTP/1.1 404 Not Found\r\nX-Elastic-Error: missing no drive\r\nContent-Length: 12\r\nx-elastic-error: second\r\n\r\n');
    expect(h.status).toBe(404);
    expect(h.headers.get('x-elastic-error')).toBe('missing no drive');
    expect(h.bodyLength).toBe(12);
    expect(h.keepAlive).toBe(true);
  });

  it('keep HTTP/1.1 connections alive unless told to close, HTTP/1.0 ones only when told to keep them', () => {
    expect(head('HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 0\r\n\r\n').keepAlive).toBe(false);
    expect(head('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n').keepAlive).toBe(false);
    expect(head('HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\ncontent-length: 0\r\n\r\n').keepAlive).toBe(true);
  });

  it('leave the body length unknown when the body is chunked or runs until close', () => {
    expect(head('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n').bodyLength).toBeUndefined();
    expect(head('HTTP/1.1 200 OK\r\n\r\n').bodyLength).toBeUndefined();
  });

  it('refuse what is not an HTTP/1.x head, as a parser fault', () => {
    for (const bad of ['HTTP/2 200\r\n\r\n', 'hello\r\n\r\n', 'HTTP/1.1 200 OK\r\nno colon\r\n\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: 1e3\r\n\r\n']) {
      expect(() => head(bad)).toThrow(ResponseHeadError);
    }
    expect(new ResponseHeadError('x').code).toBe('HPE_INVALID_CONSTANT');
  });
});
