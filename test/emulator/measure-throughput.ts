/**
 * One-off measurement (not a test): 4 MiB reads and gzip writes against the emulator on loopback with
 * undici, at 1 and 4 concurrent requests. Run: `node --import tsx test/emulator/measure-throughput.ts`.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { startEmulator } from '../../src/emulator/index.js';
import { basicAuth } from './client.js';

const MiB = 1024 * 1024;
const emu = await startEmulator();
const agent = new Agent({ connections: 8 });
const auth = basicAuth(emu.accounts[0]!);
const url = (p: string) => new URL(p, emu.url);

const created = await request(url('/drives/create'), { method: 'POST', body: 'name bench\nsize 256M\n', headers: { authorization: auth }, dispatcher: agent });
const drive = /drive (\S+)/.exec(await created.body.text())![1]!;
// Half random, half text-like: compresses about 2:1, like a used disk.
const chunk = Buffer.concat([randomBytes(2 * MiB), Buffer.alloc(2 * MiB, 'drivesnap emulator ')]);
const gz = gzipSync(chunk, { level: 1 });

async function run(label: string, concurrency: number, total: number, one: (i: number) => Promise<number>): Promise<void> {
  let next = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) bytes += await one(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${label} x${concurrency}: ${(bytes / MiB / seconds).toFixed(0)} MiB/s (${total} requests)`);
}

const write = async (i: number) => {
  const r = await request(url(`/drives/${drive}/write/${(i % 64) * 4 * MiB}`), {
    method: 'POST', body: gz, headers: { authorization: auth, 'content-encoding': 'gzip' }, dispatcher: agent,
  });
  await r.body.dump();
  if (r.statusCode !== 204) throw new Error(`write ${r.statusCode}`);
  return chunk.length;
};
const read = async (i: number) => {
  const r = await request(url(`/drives/${drive}/read/${(i % 64) * 4}M/4M`), { headers: { authorization: auth }, dispatcher: agent });
  const body = Buffer.from(await r.body.arrayBuffer());
  return body.length;
};

for (const c of [1, 4]) await run('gzip write 4 MiB', c, 64, write);
for (const c of [1, 4]) await run('read 4 MiB', c, 256, read);
await agent.close();
await emu.close();
