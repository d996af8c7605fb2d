import type { CommandModule } from 'yargs';
import { openClient, resolveAccount } from '../../config/accounts.js';
import { UsageError } from '../../errors.js';
import { DEFAULT_BENCH_SECONDS, type Measurement, runBenchmark } from '../../ops/machine-benchmark.js';
import { type CodecContext, deriveKeys, newMasterKey, peekConfig } from '../../repo/format/index.js';
import { readConfigObject } from '../../repo/repository.js';
import type { ObjectStore } from '../../store/types.js';
import { formatBytes } from '../../util/size.js';
import { Output, table } from '../output.js';
import { formatDuration } from '../progress-view.js';
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
    y
      .option('seconds', { type: 'number', default: DEFAULT_BENCH_SECONDS, description: 'Total time to spend measuring' })
      .option('account', { type: 'string', description: 'Also measure API writes and reads on a scratch drive of ACCOUNT (created, then destroyed)' })
      .option('repo', {
        alias: 'r',
        type: 'string',
        description: 'Also measure puts and gets on this repository (scratch objects under benchmark/, removed after)',
      })
      .option('s3-endpoint', { type: 'string', description: 'S3 endpoint URL for s3:// repositories' })
      .option('connections', { type: 'number', default: 4, description: 'Parallel requests for the API and store measurements' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    if (!(args.seconds > 0) || !Number.isFinite(args.seconds)) throw new UsageError(`--seconds takes a number > 0, not ${args.seconds}`);
    if (!Number.isInteger(args.connections) || args.connections < 1) throw new UsageError(`--connections takes a whole number >= 1`);
    const account = args.account?.replace(/:$/, '');
    const api = account ? openClient(await resolveAccount(account), { connections: args.connections }) : undefined;
    // Only a repository named on this command line: DRIVESNAP_REPO alone must not make a benchmark write to it.
    const opened = args.repo ? await openRepoStore(args as RepoArgs) : undefined;
    try {
      const ctx = opened ? await repoContext(opened.store) : undefined;
      out.info(`measuring for about ${formatDuration(args.seconds * 1000)} on 4 MiB blocks...`);
      const report = await runBenchmark({
        seconds: args.seconds,
        api,
        store: opened?.store,
        ctx,
        connections: args.connections,
      });
      const rows = report.results.map((m) => [m.name, `${formatBytes(m.throughput)}/s`, m.ops, detail(m)]);
      const skipped = report.skipped.map((s) => `skipped ${s.name}: ${s.reason}`).join('\n');
      out.result(
        { event: 'benchmark', codec: report.codec, blockBytes: report.blockBytes, results: report.results, skipped: report.skipped },
        `chunks compress with ${report.codec}\n${table(['MEASUREMENT', 'THROUGHPUT', 'OPS', 'DETAIL'], rows)}${skipped ? `\n${skipped}` : ''}`,
      );
    } finally {
      await api?.close();
      await opened?.store.close();
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
