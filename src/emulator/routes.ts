/**
 * Maps a request path to a call: its kind (`drives.read`, `servers.start`, ...), whether it mutates
 * (needs POST), and its path parameters. Pure. Unknown paths return undefined (404 missing).
 */
export interface Route {
  kind: string;
  mutates: boolean;
  params: Record<string, string>;
}

const SERVER_ACTIONS = new Set(['start', 'stop', 'shutdown', 'reset', 'destroy']);
const RESOURCE_TYPES = new Set(['ip', 'vlan']);

const read = (kind: string, params: Record<string, string> = {}): Route => ({ kind, mutates: false, params });
const mutate = (kind: string, params: Record<string, string> = {}): Route => ({ kind, mutates: true, params });

function driveRoute(p: string[]): Route | undefined {
  const [first, second, third, fourth] = p;
  if (first === undefined) return undefined;
  if (first === 'list' && p.length === 1) return read('drives.list');
  if (first === 'list' && second === 'standard' && p.length === 2) return read('drives.list', { standard: '1' });
  if (first === 'info' && p.length === 1) return read('drives.info');
  if (first === 'info' && p.length === 2 && second === 'full') return read('drives.info', { full: '1' });
  if (first === 'info' && p.length === 2 && second === 'standard') return read('drives.info', { standard: '1' });
  if (first === 'create' && p.length === 1) return mutate('drives.create');
  const drive = first;
  if (second === 'info' && p.length === 2) return read('drives.info', { drive });
  if (second === 'info' && third === 'full' && p.length === 3) return read('drives.info', { drive, full: '1' });
  if ((second === 'set' || second === 'destroy') && p.length === 2) return mutate(`drives.${second}`, { drive });
  if (second === 'read' && p.length <= 4) {
    return read('drives.read', { drive, ...(third !== undefined && { offset: third }), ...(fourth !== undefined && { size: fourth }) });
  }
  if (second === 'write' && p.length <= 3) return mutate('drives.write', { drive, ...(third !== undefined && { offset: third }) });
  if (second === 'image' && third !== undefined && p.length <= 4) {
    if (fourth !== undefined && fourth !== 'gzip' && fourth !== 'gunzip') return undefined;
    return mutate('drives.image', { drive, source: third, conversion: fourth ?? 'none' });
  }
  return undefined;
}

function serverRoute(p: string[]): Route | undefined {
  const [first, second] = p;
  if (first === undefined) return undefined;
  if (first === 'list' && p.length === 1) return read('servers.list');
  if (first === 'info' && p.length === 1) return read('servers.info');
  if (first === 'create' && p.length === 1) return mutate('servers.create');
  if (first === 'create' && second === 'stopped' && p.length === 2) return mutate('servers.create', { stopped: '1' });
  if (p.length !== 2 || second === undefined) return undefined;
  if (second === 'info') return read('servers.info', { server: first });
  if (second === 'set') return mutate('servers.set', { server: first });
  if (SERVER_ACTIONS.has(second)) return mutate(`servers.${second}`, { server: first });
  return undefined;
}

function resourceRoute(p: string[]): Route | undefined {
  const [first, second, third] = p;
  if (first === undefined) return undefined;
  if ((first === 'list' || first === 'info') && p.length === 1) return read(`resources.${first}`);
  if (!RESOURCE_TYPES.has(first) || second === undefined) return undefined;
  const type = first;
  if ((second === 'list' || second === 'info') && p.length === 2) return read(`resources.${second}`, { type });
  if (second === 'create' && p.length === 2) return mutate('resources.create', { type });
  if (p.length !== 3) return undefined;
  if (third === 'info') return read('resources.info', { type, resource: second });
  if (third === 'set' || third === 'destroy') return mutate(`resources.${third}`, { type, resource: second });
  return undefined;
}

export function parseRoute(pathname: string): Route | undefined {
  let parts: string[];
  try {
    parts = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const [area, ...rest] = parts;
  if (area === 'drives') return driveRoute(rest);
  if (area === 'servers') return serverRoute(rest);
  if (area === 'resources') return resourceRoute(rest);
  return undefined;
}
