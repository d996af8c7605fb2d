/**
 * Named API accounts (cli.md, "Accounts"). A config file names each account's URL, user UUID and where
 * its secret comes from (a file, or an environment variable); secrets themselves are never in the file,
 * in argv, or in any message. The account `eh` is always the one `EHURI` and `EHAUTH` give, as the
 * vendor's own tools read them.
 *
 * Config file: `DRIVESNAP_CONFIG`, else `$XDG_CONFIG_HOME/drivesnap/config.yaml`, else
 * `~/.config/drivesnap/config.yaml`; YAML (JSON is YAML too). A missing default file means "no accounts";
 * a missing file named by DRIVESNAP_CONFIG is an error.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ApiClient, type ApiClientOptions } from '../api/client.js';
import type { MinimumRate } from '../api/deadline.js';
import { type Env as EnvVars, apiMinimumRate, configFileFromEnv, ehAccountEnv, homeDir, processEnv, xdgDir } from './env.js';
import { DrivesnapError } from '../errors.js';

/** The account `EHURI` + `EHAUTH` define. */
export const ENV_ACCOUNT = 'eh';

export interface Account {
  name: string;
  url: string;
  user: string;
  secret: string;
  format?: 'text' | 'json';
  connections?: number;
  /** The slowest link accepted for one API exchange (DRIVESNAP_API_MIN_RATE, DRIVESNAP_API_BASE_MS). */
  minimumRate?: Partial<MinimumRate>;
}

const accountSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    user: z.string().min(1, 'must be the account user UUID'),
    secretFile: z.string().min(1).optional(),
    secretEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    format: z.enum(['text', 'json']).optional(),
    connections: z.number().int().min(1).max(256).optional(),
  })
  .refine((a) => (a.secretFile === undefined) !== (a.secretEnv === undefined), {
    error: 'needs exactly one of secretFile or secretEnv (secrets are not written in the config file itself)',
  });

const configSchema = z.strictObject({
  accounts: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'account names are letters, digits, _ . -'), accountSchema).default({}),
});

export type AccountConfig = z.infer<typeof accountSchema>;

export interface Config {
  /** The file read, or undefined when the default file does not exist. */
  path: string | undefined;
  accounts: Record<string, AccountConfig>;
}

type Env = EnvVars;

export function configPath(env: Env = processEnv()): string {
  const file = configFileFromEnv(env);
  if (file) return resolve(file);
  const base = xdgDir('XDG_CONFIG_HOME', env) ?? join(homeDir(env), '.config');
  return join(base, 'drivesnap', 'config.yaml');
}

function configError(message: string, cause?: unknown): DrivesnapError {
  return new DrivesnapError('CONFIG_INVALID', message, cause === undefined ? undefined : { cause });
}

/** Parses and validates config text; `path` only names the file in errors and anchors relative secretFiles. */
export function parseConfig(text: string, path: string): Config {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    const first = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    throw configError(`${path}: not valid YAML or JSON: ${first}`);
  }
  const result = configSchema.safeParse(data ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw configError(`${path}: ${field}: ${issue.message}`);
  }
  return { path, accounts: result.data.accounts };
}

export async function loadConfig(env: Env = processEnv()): Promise<Config> {
  const path = configPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !configFileFromEnv(env)) return { path: undefined, accounts: {} };
    throw configError(`cannot read the config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseConfig(text, path);
}

/** Every account name usable here: the config file's and, when EHURI and EHAUTH are set, `eh`. */
export function accountNames(config: Config, env: Env = processEnv()): string[] {
  const names = Object.keys(config.accounts);
  const eh = ehAccountEnv(env);
  if (eh.url && eh.auth && !names.includes(ENV_ACCOUNT)) names.push(ENV_ACCOUNT);
  return names.sort();
}

function envAccount(env: Env): Account {
  const { url, auth } = ehAccountEnv(env);
  if (!url || !auth) {
    const missing = [!url && 'EHURI', !auth && 'EHAUTH'].filter(Boolean).join(' and ');
    throw new DrivesnapError(
      'ACCOUNT_ENV_MISSING',
      `account eh needs EHURI (the API URL) and EHAUTH (USER_UUID:SECRET) in the environment; ${missing} is not set`,
    );
  }
  const colon = auth.indexOf(':');
  if (colon <= 0 || colon === auth.length - 1) {
    throw new DrivesnapError('ACCOUNT_ENV_INVALID', 'EHAUTH must be USER_UUID:SECRET (the value is not shown here)');
  }
  return { name: ENV_ACCOUNT, url, user: auth.slice(0, colon), secret: auth.slice(colon + 1) };
}

async function readSecret(name: string, account: AccountConfig, config: Config, env: Env): Promise<string> {
  if (account.secretEnv !== undefined) {
    const secret = env[account.secretEnv];
    if (!secret) {
      throw new DrivesnapError(
        'SECRET_MISSING',
        `account ${name}: its secret comes from the environment variable ${account.secretEnv}, which is not set`,
      );
    }
    return secret;
  }
  const file = expandPath(account.secretFile!, config.path, env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DrivesnapError(
      'SECRET_MISSING',
      `account ${name}: cannot read its secret file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  // The file holds the key and perhaps a final newline; nothing else is stripped.
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new DrivesnapError('SECRET_MISSING', `account ${name}: its secret file ${file} is empty`);
  return secret;
}

/** `~/x` -> home; relative paths are relative to the config file's directory. */
function expandPath(path: string, configFile: string | undefined, env: Env): string {
  if (path === '~' || path.startsWith('~/')) return join(homeDir(env), path.slice(1));
  if (isAbsolute(path)) return path;
  return resolve(configFile ? dirname(configFile) : process.cwd(), path);
}

/**
 * The account called `name` with its secret loaded. `eh` comes from EHURI/EHAUTH unless the config file
 * defines an account of that name itself.
 */
export async function resolveAccount(name: string, opts: { env?: Env; config?: Config } = {}): Promise<Account> {
  const env = opts.env ?? processEnv();
  const minimumRate = apiMinimumRate(env);
  const withRate = (account: Account): Account => (minimumRate ? { ...account, minimumRate } : account);
  const config = opts.config ?? (await loadConfig(env));
  const account = config.accounts[name];
  if (!account) {
    if (name === ENV_ACCOUNT) return withRate(envAccount(env));
    const known = accountNames(config, env);
    const where = config.path ?? configPath(env);
    throw new DrivesnapError(
      'UNKNOWN_ACCOUNT',
      known.length > 0
        ? `unknown account ${JSON.stringify(name)}; known accounts: ${known.join(', ')} (from ${where} and EHURI/EHAUTH)`
        : `unknown account ${JSON.stringify(name)}; no accounts are configured: add it to ${where}, or set EHURI and EHAUTH for the account eh`,
    );
  }
  const resolved: Account = { name, url: account.url, user: account.user, secret: await readSecret(name, account, config, env) };
  if (account.format !== undefined) resolved.format = account.format;
  if (account.connections !== undefined) resolved.connections = account.connections;
  return withRate(resolved);
}

/**
 * An API client for the account; `opts` override the account's own format. The account's `connections` is a
 * cap (a provider's limit): the client opens at most that many, however many ranges a job has in flight.
 */
export function openClient(account: Account, opts: Partial<Omit<ApiClientOptions, 'url' | 'user' | 'secret'>> = {}): ApiClient {
  const options: ApiClientOptions = { url: account.url, user: account.user, secret: account.secret, ...opts };
  if (options.format === undefined && account.format !== undefined) options.format = account.format;
  if (account.connections !== undefined) options.connections = Math.min(options.connections ?? account.connections, account.connections);
  if (options.minimumRate === undefined && account.minimumRate !== undefined) options.minimumRate = account.minimumRate;
  return new ApiClient(options);
}
