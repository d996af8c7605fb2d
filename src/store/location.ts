/**
 * Repository locations: a directory or s3://BUCKET/PREFIX. Pure, and free of the stores' modules, so the
 * command line can read one before it loads them (src/cli/early-unlock.ts).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';

export type RepositoryLocation = { kind: 'local'; dir: string } | { kind: 's3'; bucket: string; prefix: string };

const SCHEME_RE = /^([a-z][a-z0-9+.-]*):/i;

/** Parses `/path`, `relative/path`, `file:///path`, `file:path` or `s3://bucket/prefix`. Pure. */
export function parseRepositoryLocation(url: string, cwd: string = process.cwd()): RepositoryLocation {
  const text = url.trim();
  if (text === '') throw new UsageError('the repository location is empty: give a directory or s3://BUCKET/PREFIX');
  const scheme = SCHEME_RE.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    const dir = text.startsWith('file://') ? fileURLToPath(text) : text.slice('file:'.length);
    if (dir === '') throw new UsageError(`repository location ${text} names no directory`);
    return { kind: 'local', dir: resolve(cwd, dir) };
  }
  if (scheme === 's3') return parseS3(text);
  if (scheme && scheme.length > 1 && text.slice(scheme.length + 1).startsWith('//'))
    throw new UsageError(`repository location ${redactUserInfo(text)}: unsupported scheme ${scheme}: use a directory or s3://`);
  return { kind: 'local', dir: resolve(cwd, text) };
}

function parseS3(text: string): RepositoryLocation {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(text);
  if (!match) throw new UsageError(`repository location ${redactUserInfo(text)}: write it as s3://BUCKET/PREFIX`);
  const bucket = match[1]!;
  if (bucket.includes('@'))
    throw new UsageError(
      'credentials do not belong in the repository URL: use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile',
    );
  if (!/^[A-Za-z0-9._-]+$/.test(bucket))
    throw new UsageError(`repository location ${text}: ${JSON.stringify(bucket)} is not a bucket name`);
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((segment) => segment === '..' || segment === '.'))
    throw new UsageError(`repository location ${text}: the prefix may not contain . or .. segments`);
  return { kind: 's3', bucket, prefix };
}

/** `s3://key:secret@bucket` must not echo the secret back in the message that refuses it. */
function redactUserInfo(text: string): string {
  return text.replace(/\/\/[^/@]*@/, '//***@');
}

