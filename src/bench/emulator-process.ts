/**
 * Parent side of emulator-child.ts: the emulator runs in a child process (its CPU is neither the
 * benchmark's nor the measured client's), driven over IPC for the few controls the benchmark needs.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EmulatorAccount, EmulatorStats, WanSpec } from '../emulator/index.js';

export type EmulatorRequest =
  | { id: number; op: 'stats' | 'resetStats' | 'close' }
  | { id: number; op: 'setWan'; wan: WanSpec | undefined };
export type EmulatorReply = { id: number; result?: unknown; error?: string };

export interface BenchEmulator {
  url: string;
  accounts: EmulatorAccount[];
  stats(): Promise<EmulatorStats>;
  resetStats(): Promise<void>;
  setWan(spec: WanSpec | undefined): Promise<void>;
  close(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./emulator-child.js', import.meta.url));

/** Starts the emulator in a child process with `accounts` (fresh random ones by default). */
export async function startEmulatorProcess(dataDir: string, count = 2): Promise<BenchEmulator> {
  const accounts = Array.from({ length: count }, () => ({ user: crypto.randomUUID(), secret: crypto.randomUUID() }));
  // Account secrets go over argv only to our own child on this machine; they are throwaway.
  const child = fork(CHILD, [dataDir, ...accounts.map((a) => `${a.user}:${a.secret}`)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`emulator process exited ${code}`))));
  exited.catch(() => {
    for (const p of pending.values()) p.reject(new Error('emulator process exited'));
  });
  const started = new Promise<{ url: string }>((resolve) => {
    child.on('message', (r: EmulatorReply) => {
      if (r.id === 0) return resolve(r.result as { url: string });
      const p = pending.get(r.id);
      pending.delete(r.id);
      if (r.error !== undefined) p?.reject(new Error(r.error));
      else p?.resolve(r.result);
    });
  });
  const { url } = await Promise.race([started, exited]);
  const call = <T>(req: Omit<EmulatorRequest, 'id'>): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...req, id });
    });
  return {
    url,
    accounts,
    stats: () => call<EmulatorStats>({ op: 'stats' }),
    resetStats: () => call<void>({ op: 'resetStats' }),
    setWan: (wan) => call<void>({ op: 'setWan', wan } as Omit<EmulatorRequest, 'id'>),
    close: async () => {
      if (child.exitCode !== null || !child.connected) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call<null>({ op: 'close' });
      await gone;
    },
  };
}
