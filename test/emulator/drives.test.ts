import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonObjects, parseTextObjects } from '../../src/api/wire.js';
import { type Emulator, STANDARD_DRIVES, startEmulator } from '../../src/emulator/index.js';
import { call, createDrive, keysOf, post } from './client.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

describe('drive calls in text and JSON', () => {
  it('creates a drive with suffixed size and reports every always-present key, new counters 4096 / 1', async () => {
    const a = await post(emu, '/drives/create', 'name My Drive\nsize 2M\ntags a b\nuser:note hi there');
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toMatch(/^text\/plain/);
    expect(a.headers['x-elastic-output']).toBe('text');
    const info = keysOf(a.text);
    expect(info).toMatchObject({
      name: 'My Drive',
      size: String(2 * 1024 * 1024),
      status: 'active',
      user: emu.accounts[0]!.user,
      'encryption:cipher': 'aes-xts-plain',
      'claim:type': 'exclusive',
      'read:bytes': '4096',
      'read:requests': '1',
      'write:bytes': '4096',
      'write:requests': '1',
      tags: 'a b',
      'user:note': 'hi there',
    });
    const keys = a.text.trim().split('\n').map((l) => l.split(' ')[0]!);
    expect(keys).toEqual([...keys].sort());
  });

  it('speaks JSON both ways: JSON body in, numbers for size, one object for one drive', async () => {
    const a = await post(emu, '/drives/create', JSON.stringify({ name: 'j', size: '1M', 'claim:type': 'shared' }), {
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
    expect(a.status).toBe(200);
    expect(a.headers['x-elastic-output']).toBe('json');
    const obj = JSON.parse(a.text) as Record<string, unknown>;
    expect(obj.size).toBe(1048576);
    expect(obj['claim:type']).toBe('shared');
    const list = await call(emu, '/drives/list', { headers: { accept: 'application/json' } });
    const ids = (JSON.parse(list.text) as { drive: string }[]).map((o) => o.drive);
    expect(ids).toContain(obj.drive);
    const all = await call(emu, '/drives/info', { headers: { accept: 'application/json' } });
    expect(Array.isArray(JSON.parse(all.text))).toBe(true);
  });

  it('lists one UUID a line and info blocks separated by blank lines; GET and POST both work for reads', async () => {
    const id = await createDrive(emu, '1M');
    const viaGet = await call(emu, '/drives/list');
    const viaPost = await post(emu, '/drives/list');
    expect(viaGet.text).toBe(viaPost.text);
    expect(viaGet.text.split('\n')).toContain(id);
    const blocks = parseTextObjects((await post(emu, '/drives/info')).text);
    expect(blocks.map((b) => b.drive)).toContain(id);
    expect(keysOf((await call(emu, `/drives/${id}/info`)).text).drive).toBe(id);
  });

  it('resizes with set, keeps other keys, ignores echoed read-only keys, refuses unknown ones', async () => {
    const id = await createDrive(emu, '1M');
    const info = keysOf((await call(emu, `/drives/${id}/info`)).text);
    const set = await post(emu, `/drives/${id}/set`, `size 3M\nname renamed\ndrive ${id}\nread:bytes ${info['read:bytes']}`);
    expect(set.status).toBe(200);
    expect(keysOf(set.text)).toMatchObject({ size: String(3 * 1024 * 1024), name: 'renamed' });
    const bad = await post(emu, `/drives/${id}/set`, 'colour blue');
    expect([bad.status, bad.error]).toEqual([400, 'usage']);
  });

  it('destroys with 204, after which the drive is missing', async () => {
    const id = await createDrive(emu, '1M');
    const d = await post(emu, `/drives/${id}/destroy`);
    expect(d.status).toBe(204);
    const again = await call(emu, `/drives/${id}/info`);
    expect([again.status, again.error]).toEqual([404, 'missing']);
  });

  it('serves the standard library with the seed UUIDs as gzip images', async () => {
    const list = await call(emu, '/drives/list/standard');
    expect(list.text.trim().split('\n').sort()).toEqual(STANDARD_DRIVES.map((d) => d.drive).sort());
    const infos = parseTextObjects((await call(emu, '/drives/info/standard')).text);
    const debian = infos.find((i) => i.drive === '980cf63c-f21e-4382-997b-6541d5809629')!;
    expect(debian).toMatchObject({ name: 'Debian Linux 6.0', format: 'gzip', media: 'disk' });
    expect(Number(debian.rawsize)).toBeGreaterThan(Number(debian.size));
    const head = await call(emu, '/drives/980cf63c-f21e-4382-997b-6541d5809629/read/0/2');
    expect([...head.body]).toEqual([0x1f, 0x8b]);
    expect((await call(emu, '/drives/list')).text).not.toContain('980cf63c');
  });
});

describe('errors and methods', () => {
  it('answers 401 auth with WWW-Authenticate for missing or wrong credentials', async () => {
    const none = await call(emu, '/drives/list', { anonymous: true });
    expect([none.status, none.error]).toEqual([401, 'auth']);
    expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    const wrong = await call(emu, '/drives/list', { account: { user: emu.accounts[0]!.user, secret: 'nope' } });
    expect([wrong.status, wrong.error]).toEqual([401, 'auth']);
    expect(wrong.text).not.toContain('nope');
  });

  it('answers 405 method for GET on every mutating call, and for other methods', async () => {
    const id = await createDrive(emu, '1M');
    for (const path of ['/drives/create', `/drives/${id}/set`, `/drives/${id}/destroy`, `/drives/${id}/write/0`,
      `/drives/${id}/image/${id}`, '/servers/create', '/resources/ip/create']) {
      const a = await call(emu, path);
      expect([path, a.status, a.error]).toEqual([path, 405, 'method']);
    }
    const put = await call(emu, '/drives/list', { method: 'PUT', body: '' });
    expect([put.status, put.error]).toEqual([405, 'method']);
  });

  it('answers 404 missing for unknown commands and objects, with a one-line text body', async () => {
    for (const path of ['/drives/frobnicate', '/nothing', '/drives/00000000-0000-4000-8000-000000000000/info']) {
      const a = await call(emu, path);
      expect([a.status, a.error]).toEqual([404, 'missing']);
      expect(a.headers['content-type']).toMatch(/^text\/plain/);
      expect(a.text.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('answers 400 usage for a missing size or name, a bad size, and a malformed JSON body', async () => {
    for (const body of ['name x', 'size 1M', 'name x\nsize 12Q', 'name x\nsize -5', 'name x\nsize 1M\nclaim:type inclusive']) {
      const a = await post(emu, '/drives/create', body);
      expect([body, a.status, a.error]).toEqual([body, 400, 'usage']);
    }
    const json = await post(emu, '/drives/create', '{"name":', { headers: { 'content-type': 'application/json' } });
    expect([json.status, json.error]).toEqual([400, 'usage']);
  });

  it('parses k/M/G/T suffixes case-insensitively', async () => {
    const a = await post(emu, '/drives/create', 'name s\nsize 1g');
    expect(keysOf(a.text).size).toBe(String(1024 ** 3));
    const b = await post(emu, '/drives/create', 'name s\nsize 64K');
    expect(keysOf(b.text).size).toBe('65536');
  });

  it('keeps JSON arrays for several objects', async () => {
    const a = await call(emu, '/drives/info/standard', { headers: { accept: 'application/json' } });
    expect(parseJsonObjects(a.text).length).toBe(STANDARD_DRIVES.length);
  });
});
