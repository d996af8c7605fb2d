/** Turns the benchmark's raw rows into docs/benchmarks.md: medians, MB/s, and drivesnap / peer ratios. Pure. */
import type { CodecResult } from './codecs.js';
import type { StepResult } from './drivesnap-steps.js';
import type { PeerResult, PeerVersions } from './peers.js';
import { targetLines, verdict } from './targets.js';
import type { Workload } from './workload.js';

export interface ReportInput {
  date: string;
  command: string;
  machine: string;
  peerVersions: PeerVersions;
  /** The gzip codec chunks were compressed with (`drivesnap benchmark --json`). */
  codec: string;
  wan: { latencyMs?: number; bandwidthBytesPerSec?: number };
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
const gib = (b: number) => (b % 2 ** 30 === 0 ? `${b / 2 ** 30} GiB` : `${(b / MiB).toFixed(0)} MiB`);

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
  out.push(`Chunk codec: ${i.codec}.`, '');
  out.push(
    `Workload: three ${mib(w.sizeBytes)} raw images holding ext4 file systems made with \`mke2fs -d\` from ` +
      `${mib(w.filesBytes)} of real files on this machine: \`base\`, \`changed\` (${w.changedBlocks.length} of its ` +
      `${w.stats.dataBlocks} data blocks of 4 MiB modified) and \`relayout\` (the same files, another layout; ` +
      `${w.stats.relayoutSharedBlocks} of its ${w.stats.relayoutDataBlocks} data blocks also in base).`,
    '',
  );

  out.push('## drivesnap', '', row(['via', 'step', 'time', 'MB/s of image', 'peak RSS', 'read', 'written/stored', 'repo after', 'ranges']), row(Array(9).fill('---')));
  const isWan = (s: StepResult) => s.via === 'wan' || s.step.startsWith('fleet');
  for (const [k, s] of lastOf) {
    if (isWan(s)) continue;
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

  out.push(...cpuSection(i.steps, stepKey, median));
  out.push(...memorySection(rss, w.sizeBytes));
  out.push(...wanSection(i, time));

  const sparseKey = (prefix: string) => [...rss.keys()].find((k) => k.startsWith(`file/${prefix}-sparse-`));
  const worst = (keys: (string | undefined)[]) => {
    const v = keys.map((k) => (k ? rss.get(k) : undefined)).filter((x): x is number => x !== undefined);
    return v.length ? Math.max(...v) : undefined;
  };
  const cpuPerGiB = groupMedian(i.steps, stepKey, (s) => ((s.userMs + s.sysMs) * 2 ** 30) / s.imageBytes, median);
  const apiShare = (key: string, what: 'read' | 'write') => {
    const s = lastOf.get(key);
    const io = what === 'read' ? s?.apiReads : s?.apiWrites;
    return s && io ? io.bytes / s.imageBytes : undefined;
  };
  const lines = targetLines({
    ds: (k) => time.get(k),
    peer: (k) => peerTime.get(k),
    dsRepo: (k) => lastOf.get(k)?.repoBytes,
    peerRepo: (k) => peerLast.get(k)?.repoBytes,
    cpuPerGiB: (k) => cpuPerGiB.get(k),
    rssWorkload: worst(['file/full', 'file/restore', 'file/copy']),
    rssSparse: worst([sparseKey('full'), sparseKey('restore'), sparseKey('copy')]),
    apiShare,
    changedShare: (w.changedBlocks.length * 4 * MiB) / w.sizeBytes,
    driveLabel: gib(w.sizeBytes),
    sparseLabel: sparseKey('full')?.split('-').at(-1) ?? 'sparse',
    randomLabel: gib(lastOf.get('file/full-incompressible')?.imageBytes ?? 2 ** 30),
  });
  out.push('## Targets of issues 10 and 11 (ratios below 1 mean drivesnap is faster or smaller)', '');
  out.push(row(['issue', 'line', 'figure', 'target', 'verdict']), row(Array(5).fill('---')));
  for (const t of lines) out.push(row([t.issue === 'earlier' ? 'earlier' : `#${t.issue}`, t.line, t.figure, t.target, verdict(t)]));
  out.push('');

  out.push('## Primitives on 4 MiB chunks of the workload (in-process)', '', row(['operation', 'MB/s', 'compression ratio']), row(['---', '---', '---']));
  for (const c of i.codecs) out.push(row([c.name, c.mbPerSec.toFixed(0), c.ratio ? c.ratio.toFixed(2) : '']));
  out.push('');
  return out.join('\n');
}

/** Client CPU (the drivesnap process only, user + sys) per GiB of image, for the steps run both ways. */
function cpuSection(steps: StepResult[], key: (s: StepResult) => string, median: (v: number[]) => number): string[] {
  const per = groupMedian(steps, key, (s) => ((s.userMs + s.sysMs) * 2 ** 30) / s.imageBytes, median);
  const out = ['## Client CPU per GiB (drivesnap process only, user + sys; the emulator runs in its own process)', ''];
  out.push(row(['step', 'from a file', 'through the emulator', 'emulator / file']), row(Array(4).fill('---')));
  for (const step of ['full', 'incremental', 'restore', 'restore-5%']) {
    const f = per.get(`file/${step}`);
    const e = per.get(`emulator/${step}`);
    if (f === undefined && e === undefined) continue;
    const cell = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v / 1000).toFixed(2)} s`);
    out.push(row([step, cell(f), cell(e), ratio(e, f)]));
  }
  out.push('');
  return out;
}

/** Peak RSS of backup, restore and copy: the workload image against the large sparse one. */
function memorySection(rss: Map<string, number>, sizeBytes: number): string[] {
  const sparse = (op: string) => [...rss.keys()].find((k) => k.startsWith(`file/${op}-sparse-`));
  const label = sparse('full')?.split('-').at(-1);
  if (!label) return [];
  const out = ['## Peak RSS (target <= 160 MiB, flat in drive size)', ''];
  out.push(row(['operation', `${gib(sizeBytes)} image`, `${label} sparse image`]), row(Array(3).fill('---')));
  for (const [name, op] of [
    ['backup', 'full'],
    ['restore to a new file', 'restore'],
    ['copy to a new file', 'copy'],
  ] as const) {
    const a = rss.get(`file/${op}`);
    const k = sparse(op);
    const b = k ? rss.get(k) : undefined;
    out.push(row([name, a === undefined ? 'n/a' : mib(a), b === undefined ? 'n/a' : mib(b)]));
  }
  out.push('');
  return out;
}

/** Throughput against --concurrency under the WAN profile, the counter lines, and the fleet nightly. */
function wanSection(i: ReportInput, time: Map<string, number>): string[] {
  const wan = i.steps.filter((s) => s.via === 'wan' || s.step.startsWith('fleet'));
  if (wan.length === 0) return [];
  const profile = `${i.wan.latencyMs ?? 0} ms per request, ${i.wan.bandwidthBytesPerSec ? `${((i.wan.bandwidthBytesPerSec * 8) / 1e9).toFixed(2)} Gbit/s` : 'unlimited'} per account`;
  const out = [`## Through the emulator under a simulated WAN (${profile}; one run, not per trial)`, ''];
  const sweep = wan.filter((s) => ['incremental', 'restore-new', 'copy'].includes(s.step));
  const levels = [...new Set(sweep.map((s) => s.concurrency!))].sort((a, b) => a - b);
  if (levels.length > 0) {
    out.push(`MB/s of drive (${gib(sweep[0]!.imageBytes)}) and time, by \`--concurrency\`:`, '');
    out.push(row(['step', ...levels.map((n) => `${n}`)]), row(Array(levels.length + 1).fill('---')));
    // incremental: with --read-all (an untouched drive is otherwise only sampled).
    for (const step of ['incremental', 'restore-new', 'copy']) {
      const cells = levels.map((n) => {
        const s = sweep.find((x) => x.step === step && x.concurrency === n);
        return s ? `${mbps(s.imageBytes, s.wallMs)} (${secs(s.wallMs)})` : 'n/a';
      });
      out.push(row([step === 'incremental' ? 'incremental (--read-all)' : step, ...cells]));
    }
    out.push('');
  }
  out.push(row(['step', 'concurrency', 'time', 'API read', 'API written', 'peak RSS', 'ranges']), row(Array(7).fill('---')));
  for (const s of wan.filter((x) => !sweep.includes(x))) {
    const io = (v?: { requests: number; bytes: number }) => (v ? `${mib(v.bytes)} (${((v.bytes / s.imageBytes) * 100).toFixed(1)}%) in ${v.requests} calls` : 'n/a');
    const counts = Object.entries(s.counts)
      .map(([o, n]) => `${n} ${o}`)
      .join(', ');
    out.push(row([`${s.via}/${s.step}`, s.concurrency ?? '', secs(s.wallMs), io(s.apiReads), io(s.apiWrites), mib(s.peakRssBytes), counts]));
  }
  out.push('');
  const nightly = time.get('wan/fleet-nightly');
  const peers = i.peers.filter((p) => p.step.startsWith('fleet'));
  if (nightly !== undefined) {
    const drives = wan.find((s) => s.step === 'fleet-nightly');
    out.push(`Fleet nightly (${gib(drives?.imageBytes ?? 0)} in all; drivesnap through the WAN, peers reading the same images as files):`, '');
    out.push(row(['tool', 'full', 'nightly', 'nightly / drivesnap']), row(Array(4).fill('---')));
    const full = time.get('emulator/fleet-full');
    out.push(row(['drivesnap, one command', full === undefined ? 'n/a (no WAN)' : `${secs(full)} (no WAN)`, secs(nightly), '1.00']));
    const seq = time.get('wan/fleet-nightly-sequential');
    if (seq !== undefined) out.push(row(['drivesnap, one command per drive', '', secs(seq), ratio(seq, nightly)]));
    const seqAll = time.get('wan/fleet-nightly-sequential-read-all');
    if (seqAll !== undefined) out.push(row(['drivesnap, one command per drive, --read-all', '', secs(seqAll), ratio(seqAll, nightly)]));
    for (const tool of new Set(peers.map((p) => `${p.tool} ${p.variant}`))) {
      const f = peers.find((p) => `${p.tool} ${p.variant}` === tool && p.step === 'fleet-full');
      const n = peers.find((p) => `${p.tool} ${p.variant}` === tool && p.step === 'fleet-nightly');
      out.push(row([tool, f ? secs(f.wallMs) : 'n/a', n ? secs(n.wallMs) : 'n/a', ratio(n?.wallMs, nightly)]));
    }
    out.push('');
  }
  return out;
}
