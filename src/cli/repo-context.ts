/**
 * Opening the repository a command names: `--repo` or DRIVESNAP_REPO, the password from DRIVESNAP_PASSWORD
 * or `--password-file` (never an argument), and the index beside it (inside a local repository, in the
 * user's cache directory for S3).
 */
import { readFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { indexPathFromEnv, passwordFromEnv, passwordFromFileText, repoFromEnv } from '../config/env.js';
import { DrivesnapError, UsageError } from '../errors.js';
import { defaultIndexPath } from '../repo/index-db.js';
import { writableIndexPath } from '../repo/index-path.js';
import { Repository } from '../repo/repository.js';
import { localRepositoryDir, openStore } from '../store/open.js';
import type { ObjectStore } from '../store/types.js';
import { errnoCode } from '../util/fs-errors.js';
import { stopSignal } from './stop.js';

export interface RepoArgs {
  repo?: string;
  'password-file'?: string;
  's3-endpoint'?: string;
  json?: boolean;
  quiet?: boolean;
}

export function withRepoOptions<T>(y: Argv<T>): Argv<T & RepoArgs> {
  return y
    .option('repo', {
      alias: 'r',
      type: 'string',
      description: 'Repository: a local directory or s3://BUCKET/PREFIX (default: $DRIVESNAP_REPO)',
    })
    .option('password-file', {
      type: 'string',
      description: 'File holding the repository password (default: $DRIVESNAP_PASSWORD)',
    })
    .option('s3-endpoint', {
      type: 'string',
      description: 'S3 endpoint URL for s3:// repositories (default: $DRIVESNAP_S3_ENDPOINT or AWS)',
    }) as Argv<T & RepoArgs>;
}

export function repoLocation(args: RepoArgs): string {
  const location = args.repo ?? repoFromEnv();
  if (!location) throw new UsageError('no repository named: pass --repo or set DRIVESNAP_REPO');
  return location;
}

export async function readPassword(args: RepoArgs, envName = 'DRIVESNAP_PASSWORD', fileOption = args['password-file']): Promise<string | undefined> {
  if (fileOption) {
    let text: string;
    try {
      text = await readFile(fileOption, 'utf8');
    } catch (err) {
      throw new DrivesnapError('PASSWORD_FILE', `cannot read the password file ${fileOption} (${errnoCode(err) ?? 'error'})`);
    }
    const password = passwordFromFileText(text);
    if (password === '') {
      throw new DrivesnapError('PASSWORD_FILE', `the password file ${fileOption} is empty: write the password into it`);
    }
    return password;
  }
  return passwordFromEnv(envName);
}

export async function openRepoStore(args: RepoArgs): Promise<{ store: ObjectStore; location: string }> {
  const location = repoLocation(args);
  // Ctrl-C ends a backoff wait at once instead of after the store's retries.
  const store = openStore(location, { endpoint: args['s3-endpoint'], retry: { signal: stopSignal() } });
  return { store, location };
}

export function indexPathFor(location: string): (repoId: string) => string {
  const localRepoDir = localRepositoryDir(location);
  return (repoId) => writableIndexPath(indexPathFromEnv() ?? defaultIndexPath({ localRepoDir, repoId }));
}


export async function openRepository(args: RepoArgs): Promise<Repository> {
  const { store, location } = await openRepoStore(args);
  try {
    return await Repository.open(store, { password: await readPassword(args), indexPath: indexPathFor(location) });
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Runs `fn` with the repository open, closing it whatever happens. */
export async function withRepository<R>(args: RepoArgs, fn: (repo: Repository) => Promise<R>): Promise<R> {
  const repo = await openRepository(args);
  for (const w of repo.warnings) process.stderr.write(`warning: ${w}\n`);
  try {
    return await fn(repo);
  } finally {
    await repo.close();
  }
}
