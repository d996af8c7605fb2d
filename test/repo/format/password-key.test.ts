/**
 * Key derivations started ahead (src/repo/format/password-key.ts): a key file opens with the same master key
 * whether its derivation was started ahead or not, a derivation started for another password is never
 * used for this one, and a key file whose parameters a reader refuses starts nothing.
 */
import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeKeyFile, newMasterKey, openKeyFile, WrongPasswordError } from '../../../src/repo/format/index.js';
import { derivationsAhead, deriveAhead, passwordKey } from '../../../src/repo/format/password-key.js';

const FAST = { scrypt: { N: 1024, r: 8, p: 1 } };

function kdfOf(body: Buffer): { salt: Buffer; N: number; r: number; p: number } {
  const kdf = (JSON.parse(body.toString('utf8')) as { kdf: { salt: string; N: number; r: number; p: number } }).kdf;
  return { ...kdf, salt: Buffer.from(kdf.salt, 'base64') };
}

function withKdf(body: Buffer, change: Record<string, unknown>): Buffer {
  const json = JSON.parse(body.toString('utf8')) as { kdf: Record<string, unknown> };
  Object.assign(json.kdf, change);
  return Buffer.from(JSON.stringify(json));
}

describe('key derivations started ahead', () => {
  it('are taken once by the open that asks for the same password, salt and parameters', async () => {
    const master = newMasterKey();
    const { body } = await makeKeyFile(master, 'correct horse', FAST);
    deriveAhead(body, 'correct horse');
    expect(derivationsAhead()).toBe(1);
    expect((await openKeyFile(body, 'correct horse')).equals(master)).toBe(true);
    expect(derivationsAhead()).toBe(0);
  });

  it('derive what scrypt derives', async () => {
    const { body } = await makeKeyFile(newMasterKey(), 'pässword', FAST);
    const { salt, N, r, p } = kdfOf(body);
    deriveAhead(body, 'pässword');
    const early = await passwordKey('pässword', salt, { N, r, p });
    expect(early.equals(scryptSync(Buffer.from('pässword'.normalize('NFC')), salt, 32, { N, r, p }))).toBe(true);
  });

  it('are not used for another password: that one is refused as without them', async () => {
    const master = newMasterKey();
    const { body } = await makeKeyFile(master, 'correct horse', FAST);
    deriveAhead(body, 'battery staple');
    expect((await openKeyFile(body, 'correct horse')).equals(master)).toBe(true);
    deriveAhead(body, 'correct horse');
    await expect(openKeyFile(body, 'battery staple')).rejects.toBeInstanceOf(WrongPasswordError);
    expect(derivationsAhead()).toBe(0);
  });

  it('start nothing for parameters out of bounds or a file that is not a key file', async () => {
    const { body } = await makeKeyFile(newMasterKey(), 'pw', FAST);
    deriveAhead(withKdf(body, { N: 2 ** 21 }), 'pw');
    deriveAhead(withKdf(body, { r: 1000 }), 'pw');
    deriveAhead(withKdf(body, { type: 'argon2' }), 'pw');
    deriveAhead(Buffer.from('not json'), 'pw');
    expect(derivationsAhead()).toBe(0);
  });

  it('start at most four, however many key files there are', async () => {
    for (let i = 0; i < 6; i++) deriveAhead((await makeKeyFile(newMasterKey(), 'pw', FAST)).body, 'pw');
    expect(derivationsAhead()).toBe(4);
  });
});
