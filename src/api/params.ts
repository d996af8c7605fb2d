/**
 * Request bodies from typed values. Pure. The client always sends plain integers for sizes (never `10G`),
 * lists as space-separated words and booleans as `true`/`false`, as the API reads them.
 */
import { DrivesnapError } from '../errors.js';
import type { ApiObject } from './wire.js';

export type ApiParamValue = string | number | boolean | readonly string[];
export type ApiParams = Record<string, ApiParamValue>;

export function toApiObject(params: ApiParams): ApiObject {
  const obj: ApiObject = {};
  for (const [key, value] of Object.entries(params)) {
    if (key === '' || /\s/.test(key)) throw new DrivesnapError('USAGE', `API key ${JSON.stringify(key)} is empty or has spaces`);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new DrivesnapError('USAGE', `API key ${key}: ${value} is not a number the API accepts`);
      obj[key] = Number.isInteger(value) ? value.toFixed(0) : String(value);
    } else if (typeof value === 'boolean') obj[key] = value ? 'true' : 'false';
    else if (typeof value === 'string') obj[key] = value;
    else obj[key] = value.join(' ');
  }
  return obj;
}
