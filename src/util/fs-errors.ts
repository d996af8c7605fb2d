/**
 * What a file-system errno means for someone choosing where drivesnap keeps its files, in one place so the
 * local store, the index and the directory helpers explain a failure the same way.
 */

const FS_ADVICE: Record<string, string> = {
  ENOSPC: 'the disk is full: free space or use another directory',
  EDQUOT: 'the disk quota is exhausted: free space or raise the quota',
  EACCES: 'permission denied: check the owner and mode of the directory',
  EPERM: 'the operation is not permitted there: check the owner and mode of the directory',
  EROFS: 'the file system is read-only: choose a directory on a writable file system',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'the path has too many symbolic links',
};

/** One clause saying what `code` means and what to do, e.g. "permission denied: check ...". */
export function fsAdvice(code: string | undefined): string {
  return (code !== undefined ? FS_ADVICE[code] : undefined) ?? 'check the directory and the disk';
}

export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
