import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configPath, loadConfig, openClient, parseConfig, resolveAccount } from '../../src/config/accounts.js';

const USER = '9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a';
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivesnap-accounts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(text: string, name = 'config.yaml'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('config file location', () => {
  it('prefers DRIVESNAP_CONFIG, then XDG_CONFIG_HOME, then ~/.config', () => {
    expect(configPath({ DRIVESNAP_CONFIG: '/etc/ds.yaml', XDG_CONFIG_HOME: '/x' })).toBe('/etc/ds.yaml');
    expect(configPath({ XDG_CONFIG_HOME: '/x', HOME: '/home/u' })).toBe('/x/drivesnap/config.yaml');
    expect(configPath({ HOME: '/home/u' })).toBe('/home/u/.config/drivesnap/config.yaml');
  });
  it('treats a missing default file as no accounts, but a missing DRIVESNAP_CONFIG file as an error', async () => {
    expect(await loadConfig({ XDG_CONFIG_HOME: dir })).toEqual({ path: undefined, accounts: {} });
    await expect(loadConfig({ DRIVESNAP_CONFIG: join(dir, 'nope.yaml') })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('nope.yaml'),
    });
  });
});

describe('accounts from a file', () => {
  it('resolves an account whose secret is in a file (relative to the config) or in an environment variable', async () => {
    await writeFile(join(dir, 'lon.key'), 's3cret-lon\n');
    const path = await writeConfig(
      `accounts:\n  lon:\n    url: https://api-lon-p.elastichosts.com/\n    user: ${USER}\n    secretFile: lon.key\n` +
        `  sat:\n    url: https://api-sat-p.elastichosts.com/\n    user: ${USER}\n    secretEnv: SAT_KEY\n    format: json\n`,
    );
    const env = { DRIVESNAP_CONFIG: path, SAT_KEY: 'key with spaces' };
    expect(await resolveAccount('lon', { env })).toEqual({
      name: 'lon',
      url: 'https://api-lon-p.elastichosts.com/',
      user: USER,
      secret: 's3cret-lon',
    });
    expect(await resolveAccount('sat', { env })).toMatchObject({ secret: 'key with spaces', format: 'json' });
  });
  it('reads JSON config files too', async () => {
    const path = await writeConfig(JSON.stringify({ accounts: { a: { url: 'http://127.0.0.1:1/', user: USER, secretEnv: 'K' } } }), 'c.json');
    expect(await resolveAccount('a', { env: { DRIVESNAP_CONFIG: path, K: 'k' } })).toMatchObject({ name: 'a', secret: 'k' });
  });
  it('names the file and the field in validation errors', () => {
    expect(() => parseConfig(`accounts:\n  lon:\n    url: ftp://x/\n    user: ${USER}\n    secretEnv: K\n`, '/c.yaml')).toThrow(
      /^\/c\.yaml: accounts\.lon\.url: must be an http/,
    );
    expect(() => parseConfig(`accounts:\n  lon:\n    url: https://x/\n    user: ${USER}\n    secret: plain\n`, '/c.yaml')).toThrow(
      /\/c\.yaml: accounts\.lon: .*secret/,
    );
    expect(() => parseConfig(`accounts:\n  lon:\n    url: https://x/\n    user: ${USER}\n`, '/c.yaml')).toThrow(
      /accounts\.lon: needs exactly one of secretFile or secretEnv/,
    );
    expect(() => parseConfig('accounts: [1', '/c.yaml')).toThrow(/\/c\.yaml: not valid YAML or JSON/);
    expect(() => parseConfig('acounts: {}', '/c.yaml')).toThrow(/c\.yaml: .*acounts/);
  });
  it('says which secret is missing without showing any secret', async () => {
    const path = await writeConfig(
      `accounts:\n  a:\n    url: https://x/\n    user: ${USER}\n    secretEnv: A_KEY\n  b:\n    url: https://x/\n    user: ${USER}\n    secretFile: ${join(dir, 'missing.key')}\n`,
    );
    await expect(resolveAccount('a', { env: { DRIVESNAP_CONFIG: path } })).rejects.toMatchObject({
      code: 'SECRET_MISSING',
      exitCode: 2,
      message: expect.stringContaining('A_KEY'),
    });
    await expect(resolveAccount('b', { env: { DRIVESNAP_CONFIG: path } })).rejects.toThrow(/missing\.key: ENOENT/);
  });
  it('lists the known accounts when the name is unknown', async () => {
    const path = await writeConfig(`accounts:\n  lon:\n    url: https://x/\n    user: ${USER}\n    secretEnv: K\n`);
    await expect(resolveAccount('lnd', { env: { DRIVESNAP_CONFIG: path, EHURI: 'https://y/', EHAUTH: 'u:s' } })).rejects.toMatchObject({
      code: 'UNKNOWN_ACCOUNT',
      message: expect.stringMatching(/unknown account "lnd"; known accounts: eh, lon/),
    });
  });
});

describe('the eh account from EHURI and EHAUTH', () => {
  it('splits EHAUTH at the first colon, so secrets may contain colons', async () => {
    const env = { XDG_CONFIG_HOME: dir, EHURI: 'https://api-lon-p.elastichosts.com/', EHAUTH: `${USER}:se:cret` };
    expect(await resolveAccount('eh', { env })).toEqual({ name: 'eh', url: env.EHURI, user: USER, secret: 'se:cret' });
  });
  it('says which variable is missing, and never echoes a malformed EHAUTH', async () => {
    await expect(resolveAccount('eh', { env: { XDG_CONFIG_HOME: dir, EHAUTH: 'u:s' } })).rejects.toThrow(/EHURI is not set/);
    const err = await resolveAccount('eh', { env: { XDG_CONFIG_HOME: dir, EHURI: 'https://x/', EHAUTH: 'nocolonsecret' } }).catch((e) => e);
    expect(err.code).toBe('ACCOUNT_ENV_INVALID');
    expect(err.message).not.toContain('nocolonsecret');
  });
});

describe('openClient', () => {
  it('builds a client for the account without exposing the secret', async () => {
    const client = openClient({ name: 'x', url: 'http://127.0.0.1:9/api/', user: USER, secret: 'TOPSECRET', format: 'json' });
    try {
      expect(client.url).toBe('http://127.0.0.1:9/api');
      expect(client.format).toBe('json');
      expect(JSON.stringify(client)).not.toContain('TOPSECRET');
      const { inspect } = await import('node:util');
      expect(inspect(client, { depth: 5, showHidden: true })).not.toContain('TOPSECRET');
      expect(inspect(client, { depth: 5, showHidden: true })).not.toContain(Buffer.from(`${USER}:TOPSECRET`).toString('base64'));
    } finally {
      await client.close();
    }
  });
});

describe("an account's connections", () => {
  it('caps the connections a job asks for, and is the default when it asks for none', async () => {
    const account = { name: 'x', url: 'http://127.0.0.1:9/api/', user: USER, secret: 's', connections: 3 };
    const clients = [openClient(account, { connections: 16 }), openClient(account), openClient(account, { connections: 2 })];
    try {
      expect(clients.map((c) => c.connections)).toEqual([3, 3, 2]);
    } finally {
      for (const c of clients) await c.close();
    }
  });
});

describe('the minimum API transfer rate', () => {
  const eh = { EHURI: 'http://127.0.0.1:1/', EHAUTH: `${USER}:s`, XDG_CONFIG_HOME: '/nonexistent' };
  it('comes from DRIVESNAP_API_MIN_RATE (k/M suffixes) and DRIVESNAP_API_BASE_MS', async () => {
    expect(await resolveAccount('eh', { env: { ...eh, DRIVESNAP_API_MIN_RATE: '1M', DRIVESNAP_API_BASE_MS: '300' } })).toMatchObject({
      minimumRate: { bytesPerSecond: 1024 * 1024, baseMs: 300 },
    });
    expect((await resolveAccount('eh', { env: eh })).minimumRate).toBeUndefined();
  });
  it('refuses a rate that is not a positive size, naming the variable', async () => {
    for (const bad of ['abc', '0', '-5']) {
      await expect(resolveAccount('eh', { env: { ...eh, DRIVESNAP_API_MIN_RATE: bad } })).rejects.toMatchObject({
        code: 'ENV_INVALID',
        exitCode: 2,
        message: expect.stringContaining(`DRIVESNAP_API_MIN_RATE=${bad} is not a rate`),
      });
    }
    await expect(resolveAccount('eh', { env: { ...eh, DRIVESNAP_API_BASE_MS: '2s' } })).rejects.toMatchObject({
      code: 'ENV_INVALID',
      message: expect.stringContaining('DRIVESNAP_API_BASE_MS=2s'),
    });
  });
});
