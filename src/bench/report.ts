/** Turns the benchmark's raw rows into docs/benchmarks.md: medians, MB/s, and drivesnap / peer ratios. Pure. */
import type { CodecResult } from './codecs.js';
import type { StepResult } from './drivesnap-steps.js';
import type { PeerResult, PeerVersions } from './peers.js';
import type { Workload } from './workload.js';

export interface ReportInput {
  date: string;
  command: string;
  machine: string;
  peerVersions: PeerVersions;
  trials: number;
  workload: Workload;
  steps: StepResult[];
  peers: PeerResult[];
  codecs: CodecResult[];
  median: (v: number[]) => number;
}

const MiB = 1024 * 1024;
const mib = (b: number) => `${(b / MiB).toFixed(b < 10 * MiB ? 1 : 0)} MiB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mbps = (bytes: number, ms: number) => (ms > 0 ? (bytes / 1e6 / (ms / 1000)).toFixed(0) : '-');
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? (a / b).toFixed(2) : 'n/a');

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

function groupMedian<T>(rows: T[], key: (r: T) => string, value: (r: T) => number, median: (v: number[]) => number): Map<string, number> {
  const groups = new Map<string, number[]>();
  for (const r of rows) {
    const k = key(r);
    groups.set(k, [...(groups.get(k) ?? []), value(r)]);
  }
  return new Map([...groups].map(([k, v]) => [k, median(v)]));
}

export function renderReport(i: ReportInput): string {
  const { median } = i;
  const w = i.workload;
  const stepKey = (s: StepResult) => `${s.via}/${s.step}`;
  const time = groupMedian(i.steps, stepKey, (s) => s.wallMs, median);
  const rss = groupMedian(i.steps, stepKey, (s) => s.peakRssBytes, median);
  const lastOf = new Map(i.steps.map((s) => [stepKey(s), s]));
  const peerKey = (p: PeerResult) => `${p.tool} ${p.variant}/${p.step}`;
  const peerTime = groupMedian(i.peers, peerKey, (p) => p.wallMs, median);
  const peerRss = groupMedian(i.peers, peerKey, (p) => p.peakRssBytes, median);
  const peerLast = new Map(i.peers.map((p) => [peerKey(p), p]));

  const out: string[] = [];
  out.push(`Measured ${i.date} on ${i.machine}.`, '', `Command: \`${i.command}\` (${i.trials} trial(s); times are medians).`, '');
  out.push(
    `Workload: three ${mib(w.sizeBytes)} raw images holding ext4 file systems made with \`mke2fs -d\` from ` +
      `${mib(w.filesBytes)} of real files on this machine: \`base\`, \`changed\` (${w.changedBlocks.length} of its ` +
      `${w.stats.dataBlocks} data blocks of 4 MiB modified) and \`relayout\` (the same files, another layout; ` +
      `${w.stats.relayoutSharedBlocks} of its ${w.stats.relayoutDataBlocks} data blocks also in base).`,
    '',
  );

  out.push('## drivesnap', '', row(['via', 'step', 'time', 'MB/s of image', 'peak RSS', 'read', 'written/stored', 'repo after', 'ranges']), row(Array(9).fill('---')));
  for (const [k, s] of lastOf) {
    const t = time.get(k)!;
    const written = s.apiWrites ? `${mib(s.apiWrites.bytes)} in ${s.apiWrites.requests} calls` : mib(s.bytesWritten);
    out.push(
      row([
        s.via,
        s.step,
        secs(t),
        mbps(s.imageBytes, t),
        mib(rss.get(k)!),
        mib(s.bytesRead),
        written,
        s.repoBytes !== undefined ? mib(s.repoBytes) : '',
        Object.entries(s.counts)
          .map(([o, n]) => `${n} ${o}`)
          .join(', '),
      ]),
    );
  }
  out.push('');

  if (i.peers.length > 0) {
    out.push('## Peers on the same files, same run', '');
    out.push(`Versions: ${Object.entries(i.peerVersions).map(([t, v]) => `${t} ${v}`).join(', ')}.`, '');
    out.push(row(['tool', 'step', 'time', 'MB/s of image', 'peak RSS', 'repo after']), row(Array(6).fill('---')));
    for (const [k, p] of peerLast) {
      const t = peerTime.get(k)!;
      out.push(row([`${p.tool} ${p.variant}`, p.step, secs(t), mbps(p.imageBytes, t), mib(peerRss.get(k)!), p.repoBytes !== undefined ? mib(p.repoBytes) : '']));
    }
    out.push('');
  }

  const borg = (step: string) => peerTime.get(`borg zstd,3/${step}`);
  const borgLz4 = (step: string) => peerTime.get(`borg lz4/${step}`);
  const restic = (step: string) => [...peerTime].find(([k]) => k.startsWith('restic') && k.endsWith(`/${step}`))?.[1];
  const ds = (key: string) => time.get(key);
  const repoAfter = (key: string) => lastOf.get(key)?.repoBytes;
  const borgRepo = peerLast.get('borg zstd,3/incremental')?.repoBytes;
  const restore5 = lastOf.get('emulator/restore-5%');
  const sparseKey = [...lastOf.keys()].find((k) => k.includes('full-sparse'));
  out.push('## Targets (ratios below 1 mean drivesnap is faster or smaller)', '');
  out.push(row(['target', 'figure', 'reached']), row(['---', '---', '---']));
  const target = (name: string, figure: string, ok: boolean | undefined) => out.push(row([name, figure, ok === undefined ? 'n/a' : ok ? 'yes' : 'no']));
  const le = (a: number | undefined, b: number | undefined, f = 1) => (a && b ? a / b <= f : undefined);
  target('incremental from a file no slower than borg (fixed 4 MiB, zstd,3)', `drivesnap / borg = ${ratio(ds('file/incremental'), borg('incremental'))}`, le(ds('file/incremental'), borg('incremental')));
  target('incremental through the emulator within 1.5x of from a file', `emulator / file = ${ratio(ds('emulator/incremental'), ds('file/incremental'))}`, le(ds('emulator/incremental'), ds('file/incremental'), 1.5));
  target('full backup no slower than restic', `drivesnap / restic = ${ratio(ds('file/full'), restic('full'))}`, le(ds('file/full'), restic('full')));
  target('full backup within 1.25x of borg (zstd,3)', `drivesnap / borg = ${ratio(ds('file/full'), borg('full'))} (lz4: ${ratio(ds('file/full'), borgLz4('full'))})`, le(ds('file/full'), borg('full'), 1.25));
  target('restore to a new drive (emulator) faster than borg extract', `drivesnap / borg = ${ratio(ds('emulator/restore'), borg('restore'))}`, le(ds('emulator/restore'), borg('restore')));
  const share = restore5?.apiWrites ? restore5.apiWrites.bytes / w.sizeBytes : undefined;
  target('restore onto a 5%-different drive writes at most 6% of it', share !== undefined ? `${(share * 100).toFixed(1)}% of the drive written` : 'n/a', share !== undefined ? share <= 0.06 : undefined);
  const rss2 = rss.get('file/full');
  const rss64 = sparseKey ? rss.get(sparseKey) : undefined;
  target(
    'peak RSS under 200 MiB, same for 2 GiB and 64 GiB',
    `${rss2 ? mib(rss2) : 'n/a'} (2 GiB), ${rss64 ? mib(rss64) : 'n/a'} (${sparseKey?.split('-').at(-1) ?? 'sparse'})`,
    rss2 && rss64 ? Math.max(rss2, rss64) < 200 * MiB : undefined,
  );
  target('repository after full + incremental within 1.15x of borg zstd,3', `drivesnap / borg = ${ratio(repoAfter('file/incremental'), borgRepo)}`, le(repoAfter('file/incremental'), borgRepo, 1.15));
  out.push('');

  out.push('## Primitives on 4 MiB chunks of the workload (in-process)', '', row(['operation', 'MB/s', 'compression ratio']), row(['---', '---', '---']));
  for (const c of i.codecs) out.push(row([c.name, c.mbPerSec.toFixed(0), c.ratio ? c.ratio.toFixed(2) : '']));
  out.push('');
  return out.join('\n');
}
