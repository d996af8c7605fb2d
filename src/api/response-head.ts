/**
 * The head of an HTTP/1.x response (status line and header fields), as the direct reads of ./direct-read.ts
 * receive it. Pure: no I/O.
 */

export interface ResponseHead {
  status: number;
  /** Header names in lower case; the first value of a repeated header. */
  headers: Map<string, string>;
  /** Whether the connection may carry another exchange after this one. */
  keepAlive: boolean;
  /** The body's length from Content-Length; undefined when the body is framed otherwise (chunked, until close). */
  bodyLength: number | undefined;
}

/** A response that is not HTTP/1.x as this client reads it; a connection fault (HPE_: the parser's own codes). */
export class ResponseHeadError extends Error {
  readonly code = 'HPE_INVALID_CONSTANT';
  override name = 'ResponseHeadError';
}

/** Where the head ends (the index just past its blank line) in `buf[0, length)`, or -1 while it has not. */
export function headEnd(buf: Buffer, length: number, from = 0): number {
  const at = buf.subarray(0, length).indexOf('\r\n\r\n', Math.max(0, from - 3), 'latin1');
  return at < 0 ? -1 : at + 4;
}

/** Parses the head in `buf[0, end)` (end as headEnd gives it). */
export function parseResponseHead(buf: Buffer, end: number): ResponseHead {
  const lines = buf.toString('latin1', 0, end - 4).split('\r\n');
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!statusLine) throw new ResponseHeadError(`the answer does not start with an HTTP/1.x status line`);
  const minor = statusLine[1];
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ResponseHeadError('the answer has a malformed header line');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  const connection = headers.get('connection')?.toLowerCase() ?? '';
  const keepAlive = minor === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  let bodyLength: number | undefined;
  const announced = headers.get('content-length');
  if (announced !== undefined && !headers.has('transfer-encoding')) {
    if (!/^\d+$/.test(announced)) throw new ResponseHeadError('the answer has an invalid Content-Length');
    bodyLength = Number(announced);
  }
  return { status: Number(statusLine[2]), headers, keepAlive, bodyLength };
}
