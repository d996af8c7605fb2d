import { describe, expect, it } from 'vitest';
import { parseDriveInfo, parseImaging, parseIoCounters } from '../../src/api/drive-info.js';
import { parseResourceInfo, parseResourceList } from '../../src/api/resources.js';
import { parseServerInfo } from '../../src/api/servers.js';
import { parseJsonObjects, parseTextObject, parseTextObjects } from '../../src/api/wire.js';

// Shaped like a 2014 lon-p answer: sorted keys, spaces in the name, claimed while a server runs, no final newline.
const TEXT_INFO = [
  'claim:type exclusive',
  'claimed 00154:guest:6f1d1b4a-2c5e-4b8e-9a1f-1d2c3b4a5f6e:ide:0:0',
  'drive 3b5e3f4c-8a9d-4c1e-b2f3-0a1b2c3d4e5f',
  'encryption:cipher aes-xts-plain',
  'imaging 42%',
  'name Web server root',
  'read:bytes 4096',
  'read:requests 1',
  'readers ffffffff-ffff-ffff-ffff-ffffffffffff',
  'size 10737418240',
  'status active',
  'tags prod web',
  'user 9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a',
  'user:note first line\\nsecond line',
  'write:bytes 1048576',
  'write:requests 256',
].join('\n');

describe('DriveInfo', () => {
  it('parses a text info block real servers sent', () => {
    const info = parseDriveInfo(parseTextObject(TEXT_INFO));
    expect(info).toMatchObject({
      uuid: '3b5e3f4c-8a9d-4c1e-b2f3-0a1b2c3d4e5f',
      name: 'Web server root',
      size: 10737418240,
      status: 'active',
      user: '9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a',
      claimed: ['00154:guest:6f1d1b4a-2c5e-4b8e-9a1f-1d2c3b4a5f6e:ide:0:0'],
      claimType: 'exclusive',
      readers: ['ffffffff-ffff-ffff-ffff-ffffffffffff'],
      tags: ['prod', 'web'],
      imaging: { percent: 42, queued: false },
      encryptionCipher: 'aes-xts-plain',
      userData: { note: 'first line\nsecond line' },
      readBytes: 4096,
      readRequests: 1,
      writeBytes: 1048576,
      writeRequests: 256,
    });
    expect(info.raw.name).toBe('Web server root');
  });
  it('parses JSON with numbers as numbers or strings, and a suffixed size', () => {
    const [a, b] = parseJsonObjects(
      '[{"drive":"a","name":"x","size":1073741824,"read:bytes":"12","write:requests":3,"status":"active"},' +
        '{"drive":"b","name":"y","size":"2G","claim:type":"shared"}]',
    ).map(parseDriveInfo);
    expect(a).toMatchObject({ size: 1073741824, readBytes: 12, writeRequests: 3, claimType: 'exclusive', claimed: [] });
    expect(a!.imaging).toBeUndefined();
    expect(b).toMatchObject({ size: 2 * 1024 ** 3, claimType: 'shared', readBytes: 0 });
  });
  it('sets ioCounters only when all four counters are whole numbers, so missing is never read as 0', () => {
    const all = { drive: 'a', size: '1', 'read:bytes': ' 12 ', 'read:requests': '3', 'write:bytes': '0', 'write:requests': '0' };
    expect(parseDriveInfo(all).ioCounters).toEqual({ readBytes: 12, readRequests: 3, writeBytes: 0, writeRequests: 0 });
    expect(parseDriveInfo(parseTextObject(TEXT_INFO)).ioCounters).toEqual({
      readBytes: 4096,
      readRequests: 1,
      writeBytes: 1048576,
      writeRequests: 256,
    });
    for (const key of ['read:bytes', 'read:requests', 'write:bytes', 'write:requests'] as const) {
      const { [key]: _dropped, ...missing } = all;
      const info = parseDriveInfo(missing);
      expect(info.ioCounters, `without ${key}`).toBeUndefined();
      expect(parseIoCounters(missing)).toBeUndefined();
    }
    for (const bad of ['', '-1', '1.5', '1e3', '0x10', 'lots', '99999999999999999999']) {
      expect(parseIoCounters({ ...all, 'write:bytes': bad }), JSON.stringify(bad)).toBeUndefined();
    }
    // The old fields stay as they were: a missing counter still reads 0 there.
    expect(parseDriveInfo({ drive: 'b', size: '1' })).toMatchObject({ readBytes: 0, writeBytes: 0 });
  });
  it('reads several text blocks', () => {
    const infos = parseTextObjects('drive a\nsize 1k\n\ndrive b\nsize 4M\n').map(parseDriveInfo);
    expect(infos.map((i) => i.size)).toEqual([1024, 4 * 1024 * 1024]);
  });
  it('treats queued and true as imaging without a percentage', () => {
    expect(parseImaging('queued')).toEqual({ queued: true });
    expect(parseImaging('true')).toEqual({ queued: false });
    expect(parseImaging(undefined)).toBeUndefined();
  });
  it('refuses info without a drive id or a size, with a stable code', () => {
    expect(() => parseDriveInfo({ name: 'x', size: '1' })).toThrow(expect.objectContaining({ code: 'EH_BAD_RESPONSE' }));
    expect(() => parseDriveInfo({ drive: 'x', size: 'lots' })).toThrow(/no valid size/);
  });
});

describe('ServerInfo and resources', () => {
  it('parses server info: devices, numbers, smp auto, persistent', () => {
    const s = parseServerInfo(
      parseTextObject('server s1\nname web 1\ncpu 2000\nmem 1024\nsmp auto\npersistent true\nstatus active\nstarted 1400000000\nide:0:0 d1\nide:0:0:media disk\nblock:3 d2\nboot ide:0:0\nnic:0:model e1000'),
    );
    expect(s).toMatchObject({ uuid: 's1', name: 'web 1', cpu: 2000, mem: 1024, smp: 'auto', persistent: true, started: 1400000000 });
    expect(s.drives).toEqual({ 'ide:0:0': 'd1', 'block:3': 'd2' });
    expect(s.boot).toEqual(['ide:0:0']);
    expect(parseServerInfo({ server: 's2', smp: '4' }).smp).toBe(4);
  });
  it('parses resource lists in both formats and resource info', () => {
    expect(parseResourceList('ip 10.0.0.1\nvlan v1\n', 'text')).toEqual([
      { type: 'ip', resource: '10.0.0.1' },
      { type: 'vlan', resource: 'v1' },
    ]);
    expect(parseResourceList('[{"type":"ip","resource":"10.0.0.2"}]', 'json')).toEqual([{ type: 'ip', resource: '10.0.0.2' }]);
    expect(parseResourceInfo({ resource: '10.0.0.1', type: 'ip', netmask: '255.255.255.0', tags: 'a b' })).toMatchObject({
      resource: '10.0.0.1',
      netmask: '255.255.255.0',
      tags: ['a', 'b'],
    });
  });
});
