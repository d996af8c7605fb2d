import { describe, expect, it } from 'vitest';
import {
  configMacInput,
  decodeConfig,
  deriveKeys,
  encodeConfig,
  newConfig,
  newMasterKey,
  peekConfig,
  type RepoConfig,
  SUBKEY_INFO,
} from '../../../src/repo/format/index.js';
import { hmac, subkey } from './fixtures.js';

function edit(buf: Buffer, change: (json: Record<string, unknown>) => void): Buffer {
  const json = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
  change(json);
  return Buffer.from(JSON.stringify(json), 'utf8');
}

describe('newConfig', () => {
  it('sets 4 MiB chunks, a random id, and the id hash that matches encryption', () => {
    const plain = newConfig({ encrypted: false });
    const enc = newConfig({ encrypted: true, compressionLevel: 1 });
    expect(plain).toMatchObject({ version: 1, chunkSize: 4194304, idHash: 'sha256', encryption: 'none' });
    expect(enc).toMatchObject({ idHash: 'hmac-sha256', encryption: 'aes-256-gcm', compression: { type: 'gzip', level: 1 } });
    expect(plain.id).toMatch(/^[0-9a-f]{64}$/);
    expect(plain.id).not.toBe(enc.id);
    expect(() => newConfig({ encrypted: false, compressionLevel: 0 })).toThrow(/compression level/);
  });
});

describe('plain config', () => {
  it('round-trips as readable JSON without a MAC', async () => {
    const cfg = newConfig({ encrypted: false });
    const buf = await encodeConfig(cfg);
    expect(JSON.parse(buf.toString('utf8'))).toEqual(cfg);
    expect(await decodeConfig(buf)).toEqual(cfg);
    expect(peekConfig(buf)).toEqual(cfg);
  });

  it('refuses inconsistent or malformed configs with CONFIG_CORRUPT', async () => {
    const buf = await encodeConfig(newConfig({ encrypted: false }));
    const bad = [
      Buffer.from('{not json'),
      edit(buf, (j) => {
        j.idHash = 'hmac-sha256';
      }),
      edit(buf, (j) => {
        j.chunkSize = 3_000_000;
      }),
      edit(buf, (j) => {
        j.compression = { type: 'zstd', level: 3 };
      }),
      edit(buf, (j) => {
        delete j.id;
      }),
    ];
    for (const b of bad) await expect(decodeConfig(b)).rejects.toMatchObject({ code: 'CONFIG_CORRUPT' });
  });

  it('refuses a newer format version with REPO_VERSION, naming the supported one', async () => {
    const newer = edit(await encodeConfig(newConfig({ encrypted: false })), (j) => {
      j.version = 2;
      j.somethingNew = true;
    });
    expect(() => peekConfig(newer)).toThrow(/version 2.*up to version 1/);
    await expect(decodeConfig(newer)).rejects.toMatchObject({ code: 'REPO_VERSION', exitCode: 1 });
  });
});

describe('encrypted config', () => {
  async function setup() {
    const master = newMasterKey();
    const keys = await deriveKeys(master);
    const cfg: RepoConfig = newConfig({ encrypted: true });
    return { master, keys, cfg, buf: await encodeConfig(cfg, keys) };
  }

  it('carries a MAC computed as documented, and round-trips with keys', async () => {
    const { master, keys, cfg, buf } = await setup();
    const json = JSON.parse(buf.toString('utf8')) as { mac: string };
    const expected = hmac(subkey(master, SUBKEY_INFO.configMac), configMacInput(cfg));
    expect(json.mac).toBe(expected.toString('hex'));
    expect(configMacInput(cfg).toString()).toBe(
      `[1,"${cfg.id}",4194304,"hmac-sha256","gzip",${cfg.compression.level},"aes-256-gcm"]`,
    );
    expect(await decodeConfig(buf, keys)).toEqual(cfg);
    expect(peekConfig(buf)).toEqual(cfg);
  });

  it('detects every tampered field once keys are known', async () => {
    const { keys, buf } = await setup();
    const tampered = [
      edit(buf, (j) => {
        j.encryption = 'none';
        j.idHash = 'sha256';
      }),
      edit(buf, (j) => {
        j.chunkSize = 1024 * 1024;
      }),
      edit(buf, (j) => {
        j.compression = { type: 'gzip', level: 9 };
      }),
      edit(buf, (j) => {
        j.id = 'f'.repeat(64);
      }),
      edit(buf, (j) => {
        delete j.mac;
      }),
    ];
    for (const t of tampered) await expect(decodeConfig(t, keys)).rejects.toMatchObject({ code: 'CONFIG_CORRUPT' });
  });

  it('fails the MAC under another repository’s keys', async () => {
    const { buf } = await setup();
    const other = await deriveKeys(newMasterKey());
    await expect(decodeConfig(buf, other)).rejects.toThrow(/MAC does not match/);
  });

  it('needs keys to encode, and refuses keys for a plain config', async () => {
    const { keys, cfg } = await setup();
    await expect(encodeConfig(cfg)).rejects.toMatchObject({ code: 'FORMAT_USAGE' });
    await expect(encodeConfig(newConfig({ encrypted: false }), keys)).rejects.toMatchObject({ code: 'FORMAT_USAGE' });
  });
});
