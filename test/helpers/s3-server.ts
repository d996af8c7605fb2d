/**
 * A real S3-compatible server for tests: s3rver in a child process on 127.0.0.1, a port chosen by the OS,
 * its own temp directory and a fresh bucket. Tests pass the credentials to their S3 client explicitly.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  close(): Promise<void>;
}

const CHILD_SCRIPT = fileURLToPath(new URL('./s3rver-child.mjs', import.meta.url));
const START_TIMEOUT_MS = 20_000;
// s3rver accepts these and nothing else.
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function startS3Server(): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'drivesnap-s3rver-'));
  const bucket = `test-${randomBytes(4).toString('hex')}`;
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const child = fork(CHILD_SCRIPT, [directory, bucket], {
    execArgv: ['--openssl-legacy-provider'],
    env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });

  const stop = async () => {
    await killChild(child);
    await rm(directory, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const port = await waitForPort(child, deadline, () => stderr);
    const endpoint = `http://127.0.0.1:${port}`;
    await waitUntilAnswering(endpoint, deadline);
    return { endpoint, bucket, region: 'us-east-1', ...CREDENTIALS, close: stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function waitForPort(child: ChildProcess, deadline: number, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      cleanup();
      const detail = stderr().trim();
      reject(new Error(`s3rver test server did not start: ${why}${detail ? ` (stderr: ${detail})` : ''}`));
    };
    const onMessage = (message: unknown) => {
      const reply = message as { port?: number; error?: string };
      if (typeof reply.port === 'number') {
        cleanup();
        resolve(reply.port);
      } else fail(reply.error ?? 'unexpected message from the server process');
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(`the server process exited (code ${code}, signal ${signal})`);
    const onError = (err: Error) => fail(err.message);
    const timer = setTimeout(
      () => fail(`no port reported within ${START_TIMEOUT_MS / 1000} s`),
      Math.max(0, deadline - Date.now()),
    );
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage).off('exit', onExit).off('error', onError);
    };
    child.on('message', onMessage).on('exit', onExit).on('error', onError);
  });
}

/** Any HTTP answer (even 403) proves the server is serving; connection errors mean not yet. */
async function waitUntilAnswering(endpoint: string, deadline: number): Promise<void> {
  for (;;) {
    const answered = await new Promise<boolean>((resolve) => {
      const req = request(endpoint, { method: 'GET', timeout: 2000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
      req.end();
    });
    if (answered) return;
    if (Date.now() > deadline) throw new Error(`s3rver test server at ${endpoint} never answered`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(forced);
}
