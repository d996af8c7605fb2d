/**
 * The drive API's two wire formats (api-contract.md, "Formats"), shared by the client and the emulator.
 * Pure: no I/O. An API object is a flat map of string keys to string values; JSON numbers and booleans
 * are carried as strings so both formats decode to the same thing.
 */
export type ApiObject = Record<string, string>;
export type WireFormat = 'text' | 'json';

/** Keys the JSON format writes as numbers (api-contract.md). */
const NUMERIC_KEYS = new Set(['size', 'cpu', 'mem', 'started', 'smp']);

export function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n');
}

export function unescapeValue(value: string): string {
  return value.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Text objects: `key value` lines, blocks separated by blank lines. Tolerates CRLF and no final newline. */
export function parseTextObjects(body: string): ApiObject[] {
  const objects: ApiObject[] = [];
  let current: ApiObject | undefined;
  for (const raw of body.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    const trimmed = line.replace(/^\s+/, '');
    const space = trimmed.indexOf(' ');
    const key = space < 0 ? trimmed : trimmed.slice(0, space);
    const value = space < 0 ? '' : trimmed.slice(space + 1);
    if (!current) {
      current = {};
      objects.push(current);
    }
    current[key] = unescapeValue(value);
  }
  return objects;
}

export function parseTextObject(body: string): ApiObject {
  const objects = parseTextObjects(body);
  return Object.assign({}, ...objects) as ApiObject;
}

export function formatTextObject(obj: ApiObject): string {
  return Object.keys(obj)
    .sort()
    .map((k) => `${k} ${escapeValue(obj[k]!)}\n`)
    .join('');
}

export function formatTextObjects(objects: ApiObject[]): string {
  return objects.map(formatTextObject).join('\n');
}

function jsonValueToString(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(jsonValueToString).join(' ');
  return JSON.stringify(value);
}

function jsonToObject(value: unknown): ApiObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SyntaxError('expected a JSON object');
  }
  const out: ApiObject = {};
  for (const [k, v] of Object.entries(value)) out[k] = jsonValueToString(v);
  return out;
}

/** JSON bodies: one object, or an array of objects. Throws SyntaxError on anything else. */
export function parseJsonObjects(body: string): ApiObject[] {
  if (body.trim() === '') return [];
  const parsed: unknown = JSON.parse(body);
  return Array.isArray(parsed) ? parsed.map(jsonToObject) : [jsonToObject(parsed)];
}

function objectToJson(obj: ApiObject): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k]!;
    out[k] = NUMERIC_KEYS.has(k) && /^\d+$/.test(v) ? Number(v) : v;
  }
  return out;
}

export function formatJsonObject(obj: ApiObject): string {
  return JSON.stringify(objectToJson(obj));
}

export function formatJsonObjects(objects: ApiObject[]): string {
  return JSON.stringify(objects.map(objectToJson));
}

export function parseObjects(body: string, format: WireFormat): ApiObject[] {
  return format === 'json' ? parseJsonObjects(body) : parseTextObjects(body);
}

export function formatObjects(objects: ApiObject[], format: WireFormat, single: boolean): string {
  if (format === 'json') return single && objects.length === 1 ? formatJsonObject(objects[0]!) : formatJsonObjects(objects);
  return formatTextObjects(objects);
}

/** Lists: text is one id per line (`TYPE RESOURCE` for resources); JSON is `[{"drive": "uuid"}, ...]`. */
export function formatList(ids: ApiObject[], format: WireFormat): string {
  if (format === 'json') return JSON.stringify(ids);
  return ids.map((o) => Object.values(o).join(' ') + '\n').join('');
}

export function parseList(body: string, format: WireFormat, key: string): string[] {
  if (format === 'json') return parseJsonObjects(body).map((o) => o[key] ?? '').filter((s) => s !== '');
  return body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** Multi-valued keys (tags, readers, claimed, boot, avoid) are space-separated in one value. */
export function splitWords(value: string | undefined): string[] {
  return value ? value.split(/\s+/).filter((w) => w !== '') : [];
}

export function formatFromContentType(contentType: string | undefined): WireFormat {
  return contentType?.toLowerCase().includes('application/json') ? 'json' : 'text';
}
