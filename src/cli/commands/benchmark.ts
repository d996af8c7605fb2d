import type { CommandModule } from 'yargs';
import { openClient, resolveAccount } from '../../config/accounts.js';
import { DEFAULT_BENCH_SECONDS, type Measurement, runBenchmark } from '../../ops/machine-benchmark.js';
import { type CodecContext, deriveKeys, newMasterKey, peekConfig } from '../../repo/format/index.js';
import { readConfigObject } from '../../repo/repository.js';
import type { ObjectStore } from '../../store/types.js';
import { formatRate } from '../../util/size.js';
import { Output, table } from '../output.js';
import { formatDuration } from '../progress-view.js';
import { MAX_CONCURRENCY, withNumbers } from '../options.js';
import { openRepoStore, type RepoArgs } from '../repo-context.js';

interface BenchmarkArgs {
  seconds: number;
  account?: string;
  repo?: string;
  's3-endpoint'?: string;
  connections: number;
  json?: boolean;
  quiet?: boolean;
}

export const command: CommandModule<object, BenchmarkArgs> = {
  command: 'benchmark',
  describe: "This machine's hash, gzip, encryption and chunk codec speed; with --account the API's, with --repo the store's",
  builder: (y) =>
    withNumbers(y, {
      seconds: { description: 'Total time to spend measuring', whole: false, min: 0, aboveMin: true, max: 86_400, default: DEFAULT_BENCH_SECONDS },
      connections: { description: 'Parallel requests for the API and store measurements', min: 1, max: MAX_CONCURRENCY, default: 4 },
    })
      .option('account', { type: 'string', description: 'Also measure API writes and reads on a scratch drive of ACCOUNT (created, then destroyed)' })
      .option('repo', {
        alias: 'r',
        type: 'string',
        description: 'Also measure puts and gets on this repository (scratch objects under benchmark/, removed after)',
      })
      .option('s3-endpoint', { type: 'string', description: 'S3 endpoint URL for s3:// repositories' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const account = args.account?.replace(/:$/, '');
    const api = account ? openClient(await resolveAccount(account), { connections: args.connections }) : undefined;
    // Only a repository named on this command line: DRIVESNAP_REPO alone must not make a benchmark write to it.
    const store = args.repo ? (await openRepoStore(args as RepoArgs)).store : undefined;
    try {
      const ctx = store ? await repoContext(store) : undefined;
      out.info(`measuring for about ${formatDuration(args.seconds * 1000)} on 4 MiB blocks...`);
      const report = await runBenchmark({
        seconds: args.seconds,
        api,
        store,
        ctx,
        connections: args.connections,
      });
      const rows = report.results.map((m) => [m.name, formatRate(m.throughput), m.ops, detail(m)]);
      const skipped = report.skipped.map((s) => `skipped ${s.name}: ${s.reason}`).join('\n');
      out.result(
        { event: 'benchmark', codec: report.codec, blockBytes: report.blockBytes, results: report.results, skipped: report.skipped },
        `chunks compress with ${report.codec}\n${table(['MEASUREMENT', 'THROUGHPUT', 'OPS', 'DETAIL'], rows)}${skipped ? `\n${skipped}` : ''}`,
      );
    } finally {
      await api?.close();
      await store?.close();
    }
  },
};

function detail(m: Measurement): string {
  const parts: string[] = [];
  if (m.ratio !== undefined) parts.push(`output ${(m.ratio * 100).toFixed(1)}% of input`);
  if (m.note) parts.push(m.note);
  return parts.join('; ');
}

/**
 * The repository's own codec settings (chunk size, gzip level, encrypted or not), with throwaway keys:
 * the benchmark needs no password and never touches the real keys.
 */
async function repoContext(store: ObjectStore): Promise<CodecContext> {
  const config = peekConfig(await readConfigObject(store));
  return config.encryption === 'none' ? { config } : { config, keys: await deriveKeys(newMasterKey()) };
}
