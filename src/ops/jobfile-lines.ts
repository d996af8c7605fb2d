/**
 * Finds the line of a field in a parsed YAML (or JSON) document, so a job file error points at what to edit.
 */
import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

type PathSegment = string | number;

function lineOf(node: { range?: [number, number, number] | null } | null | undefined, lines: LineCounter) {
  return node?.range ? lines.linePos(node.range[0]).line : undefined;
}

function keyMatches(key: unknown, segment: PathSegment): boolean {
  return isScalar(key) ? String(key.value) === String(segment) : key === segment;
}

/**
 * The line of the deepest node on `path` that exists. A map entry reports the line of its key (where the
 * user reads `daily: x`), a list item the line it starts on; a missing field reports its parent's line.
 * With `key`, the line of that key inside the node at `path` (for unknown keys).
 */
export function lineForPath(doc: Document, lines: LineCounter, path: PathSegment[], key?: string): number {
  let node: unknown = doc.contents;
  let line = lineOf(doc.contents as Node | null, lines) ?? 1;
  const segments: PathSegment[] = key === undefined ? path : [...path, key];
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && keyMatches(item.key, segment));
      if (!pair) break;
      line = lineOf(pair.key as Node, lines) ?? lineOf(pair.value as Node, lines) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      line = lineOf(item as Node, lines) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}
