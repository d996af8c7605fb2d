import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRYPT,
  deriveKeys,
  describeKeyFile,
  makeKeyFile,
  newMasterKey,
  openKeyFile,
  WrongPasswordError,
} from '../../../src/repo/format/index.js';
import { sha256 } from './fixtures.js';

/** Small scrypt cost keeps tests fast; the default is checked separately. */
const FAST = { scrypt: { N: 1024, r: 8, p: 1 } };

interface KeyFileJson {
  version: number;
  kdf: { N: number; salt: string };
  sealed?: { data: string };
}

function edit(body: Buffer, change: (json: KeyFileJson) => void): Buffer {
  const json = JSON.parse(body.toString('utf8')) as KeyFileJson;
  change(json);
  return Buffer.from(JSON.stringify(json), 'utf8');
}

describe('key files', () => {
  it('open with the right password to the same master key', async () => {
    const master = newMasterKey();
    const { body } = await makeKeyFile(master, 'correct horse', FAST);
    expect((await openKeyFile(body, 'correct horse')).equals(master)).toBe(true);
  });

  it('refuse a wrong password with WRONG_PASSWORD and exit code 12', async () => {
    const { body } = await makeKeyFile(newMasterKey(), 'correct horse', FAST);
    const err = await openKeyFile(body, 'battery staple').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongPasswordError);
    expect(err).toMatchObject({ code: 'WRONG_PASSWORD', exitCode: 12 });
    expect((err as Error).message).not.toContain('battery');
  });

  it('let several passwords open one master key, each through its own file', async () => {
    const master = newMasterKey();
    const a = await makeKeyFile(master, 'alpha', FAST);
    const b = await makeKeyFile(master, 'beta', FAST);
    expect(a.id).not.toBe(b.id);
    expect((await openKeyFile(a.body, 'alpha')).equals(master)).toBe(true);
    expect((await openKeyFile(b.body, 'beta')).equals(master)).toBe(true);
    await expect(openKeyFile(a.body, 'beta')).rejects.toBeInstanceOf(WrongPasswordError);
  });

  it('are named by the SHA-256 of their bytes and describe themselves without a password', async () => {
    const created = new Date('2026-08-21T10:00:00Z');
    const { id, name, body } = await makeKeyFile(newMasterKey(), 'pw', { ...FAST, host: 'h1', user: 'ops', created });
    expect(id).toBe(sha256(body).toString('hex'));
    expect(name).toBe(`keys/${id}`);
    expect(describeKeyFile(body)).toEqual({ id, created: created.toISOString(), host: 'h1', user: 'ops' });
  });

  it('never hold the master key or the password in the clear', async () => {
    const master = newMasterKey();
    const { body } = await makeKeyFile(master, 'hunter2-secret', FAST);
    const text = body.toString('utf8');
    for (const enc of ['hex', 'base64'] as const) expect(text).not.toContain(master.toString(enc).slice(0, 24));
    expect(text).not.toContain('hunter2');
  });

  it('fail as a wrong password when the salt or sealed key was altered', async () => {
    const { body } = await makeKeyFile(newMasterKey(), 'pw', FAST);
    const saltChanged = edit(body, (j) => {
      j.kdf.salt = Buffer.alloc(32, 7).toString('base64');
    });
    await expect(openKeyFile(saltChanged, 'pw')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    const sealedChanged = edit(body, (j) => {
      const data = Buffer.from(j.sealed!.data, 'base64');
      data[0] = data[0]! ^ 1;
      j.sealed!.data = data.toString('base64');
    });
    await expect(openKeyFile(sealedChanged, 'pw')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
  });

  it('refuse hostile or malformed scrypt parameters before running scrypt', async () => {
    const { body } = await makeKeyFile(newMasterKey(), 'pw', FAST);
    for (const N of [2 ** 30, 1000, 16]) {
      const hostile = edit(body, (j) => {
        j.kdf.N = N;
      });
      await expect(openKeyFile(hostile, 'pw')).rejects.toMatchObject({ code: 'KEY_FILE_CORRUPT' });
    }
    await expect(openKeyFile(Buffer.from('nope'), 'pw')).rejects.toMatchObject({ code: 'KEY_FILE_CORRUPT' });
    expect(() => describeKeyFile(edit(body, (j) => {
            delete j.sealed;
          }))).toThrow(/sealed/);
  });

  it('refuse a newer key file version with REPO_VERSION', async () => {
    const { body } = await makeKeyFile(newMasterKey(), 'pw', FAST);
    await expect(openKeyFile(edit(body, (j) => {
            j.version = 2;
          }), 'pw')).rejects.toMatchObject({ code: 'REPO_VERSION' });
  });

  it('treat composed and decomposed accents as the same password (NFC)', async () => {
    const master = newMasterKey();
    const { body } = await makeKeyFile(master, 'caf\u00e9', FAST);
    expect((await openKeyFile(body, 'cafe\u0301')).equals(master)).toBe(true);
  });

  it('use the default scrypt cost (N=2^15, r=8, p=1) when none is given', async () => {
    const master = newMasterKey();
    const { body } = await makeKeyFile(master, 'pw');
    expect(JSON.parse(body.toString('utf8')).kdf).toMatchObject(DEFAULT_SCRYPT);
    expect((await openKeyFile(body, 'pw')).equals(master)).toBe(true);
  });
});

describe('deriveKeys', () => {
  it('refuses a master key of the wrong length', async () => {
    await expect(deriveKeys(Buffer.alloc(32))).rejects.toMatchObject({ code: 'FORMAT_USAGE' });
  });
});
