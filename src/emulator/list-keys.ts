/**
 * Multi-valued keys (tags, readers, claimed, boot, avoid...) are space-separated in one value in text. In
 * JSON a client may send them as lists; the emulator answers each key of an object in the form it was
 * last given (a list stays a list), so a client that indexes what it sent keeps working. Pure.
 */
import { type ApiObject, formatObjects, splitWords } from '../api/wire.js';
import { usage } from './http-error.js';

export const MULTI_VALUED_KEYS: ReadonlySet<string> = new Set(['tags', 'readers', 'claimed', 'boot', 'avoid', 'avoid:drives', 'avoid:servers']);

/** The keys a JSON request body gives as lists; refuses a list for a single-valued key or an ambiguous item. */
export function jsonListKeys(text: string): Set<string> {
  const keys = new Set<string>();
  if (text.trim() === '') return keys;
  const parsed: unknown = JSON.parse(text);
  const objects = Array.isArray(parsed) ? parsed : [parsed];
  for (const object of objects) {
    if (typeof object !== 'object' || object === null) continue;
    for (const [key, value] of Object.entries(object)) {
      if (!Array.isArray(value)) continue;
      if (!MULTI_VALUED_KEYS.has(key)) {
        throw usage(`${key} takes one value, not a list (lists are for ${[...MULTI_VALUED_KEYS].join(', ')})`);
      }
      for (const item of value) {
        if ((typeof item !== 'string' && typeof item !== 'number') || /\s/.test(String(item)) || String(item) === '') {
          throw usage(`${key}: each list item must be one word, not ${JSON.stringify(item)}`);
        }
      }
      keys.add(key);
    }
  }
  return keys;
}

/**
 * Updates the list keys a record remembers after a create or set: keys this body gave as lists join, keys
 * it gave as plain values leave, and only keys the record stores (`stored`) count.
 */
export function rememberListKeys(record: { lists?: string[] }, stored: ApiObject, body: ApiObject, given: ReadonlySet<string>): void {
  const keys = new Set(record.lists);
  for (const key of Object.keys(body)) {
    if (given.has(key) && key in stored) keys.add(key);
    else keys.delete(key);
  }
  if (keys.size > 0) record.lists = [...keys].sort();
  else delete record.lists;
}

/** One info block to answer, with the keys JSON writes as lists. */
export interface InfoBlock {
  object: ApiObject;
  lists?: readonly string[] | undefined;
}

/** Formats info blocks: text as always; JSON with each block's list keys as arrays of words. */
export function formatInfoBlocks(blocks: InfoBlock[], format: 'text' | 'json', single: boolean): string {
  const objects = blocks.map((b) => b.object);
  if (format === 'text' || blocks.every((b) => !b.lists || b.lists.length === 0)) return formatObjects(objects, format, single);
  // The wire module decides numbers and key order; lists are put in afterwards.
  const plain = JSON.parse(formatObjects(objects, 'json', false)) as Record<string, unknown>[];
  blocks.forEach((block, i) => {
    for (const key of block.lists ?? []) {
      const value = block.object[key];
      if (value !== undefined) plain[i]![key] = splitWords(value);
    }
  });
  return JSON.stringify(single && plain.length === 1 ? plain[0] : plain);
}
