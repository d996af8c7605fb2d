import { describe, expect, it } from 'vitest';
import {
  formatJsonObject,
  formatTextObject,
  parseJsonObjects,
  parseList,
  parseTextObject,
  parseTextObjects,
} from '../../src/api/wire.js';

describe('text format', () => {
  it('splits each line at the first space, so values keep their spaces', () => {
    expect(parseTextObject('name My Drive 1\nsize 1024\n')).toEqual({ name: 'My Drive 1', size: '1024' });
  });
  it('accepts a missing trailing newline, CRLF line ends and a key with no value', () => {
    expect(parseTextObject('a 1\r\nb\r\nc 3')).toEqual({ a: '1', b: '', c: '3' });
  });
  it('separates objects with blank lines', () => {
    expect(parseTextObjects('drive a\nsize 1\n\ndrive b\nsize 2\n')).toEqual([
      { drive: 'a', size: '1' },
      { drive: 'b', size: '2' },
    ]);
  });
  it('round-trips newlines inside values as the two characters \\n, and sorts keys', () => {
    const text = formatTextObject({ 'user:note': 'line1\nline2', drive: 'x' });
    expect(text).toBe('drive x\nuser:note line1\\nline2\n');
    expect(parseTextObject(text)).toEqual({ drive: 'x', 'user:note': 'line1\nline2' });
  });
  it('reads lists one id per line', () => {
    expect(parseList('u1\nu2\n\n', 'text', 'drive')).toEqual(['u1', 'u2']);
  });
});

describe('JSON format', () => {
  it('writes sizes as numbers and other values as strings', () => {
    expect(formatJsonObject({ size: '4096', name: 'x', 'read:bytes': '7' })).toBe(
      '{"name":"x","read:bytes":"7","size":4096}',
    );
  });
  it('accepts numbers as strings, booleans and arrays, and one object or many', () => {
    expect(parseJsonObjects('{"size":"2G","persistent":true,"tags":["a","b"]}')).toEqual([
      { size: '2G', persistent: 'true', tags: 'a b' },
    ]);
    expect(parseList('[{"drive":"u1"},{"drive":"u2"}]', 'json', 'drive')).toEqual(['u1', 'u2']);
  });
  it('refuses JSON that is not objects', () => {
    expect(() => parseJsonObjects('[1,2]')).toThrow(SyntaxError);
  });
});
