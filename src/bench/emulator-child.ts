/**
 * The benchmark's emulator in a process of its own, so that the API server's CPU never lands in the
 * benchmark process or the measured client: started by emulator-process.ts over an IPC channel.
 */
import { startEmulator } from '../emulator/index.js';
import type { EmulatorRequest, EmulatorReply } from './emulator-process.js';

const [dataDir, ...accountArgs] = process.argv.slice(2);
const accounts = accountArgs.map((a) => {
  const [user, secret] = a.split(':');
  return { user: user!, secret: secret! };
});
const emulator = await startEmulator({ dataDir, accounts });
const reply = (r: EmulatorReply) => process.send?.(r);
reply({ id: 0, result: { url: emulator.url } });
// The benchmark died or was interrupted: do not outlive it.
process.on('disconnect', () => void emulator.close().finally(() => process.exit(0)));
process.on('message', async (m: EmulatorRequest) => {
  try {
    if (m.op === 'stats') reply({ id: m.id, result: emulator.stats() });
    else if (m.op === 'resetStats') reply({ id: m.id, result: emulator.resetStats() });
    else if (m.op === 'setWan') reply({ id: m.id, result: emulator.setWan(m.wan) });
    else {
      await emulator.close();
      reply({ id: m.id, result: null });
      process.disconnect();
    }
  } catch (err) {
    reply({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
});
