/**
 * The public library of standard drives (the seed's table, UUIDs and names), stored as gzip images the
 * way the vendor stored them: `format gzip`, `size` = compressed bytes, `rawsize` = gunzipped bytes.
 * The content is small (a few MiB) but shaped like the real thing (boot sector, filesystem magic,
 * text files, long zero runs) and generated deterministically, once per process.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { seededRandom } from '../util/prng.js';

const gzipAsync = promisify(gzip);

export const LIBRARY_OWNER = '00000000-0000-0000-0000-000000000000';
export const ALL_READERS = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

export interface StandardDriveSpec {
  drive: string;
  name: string;
  media: 'disk' | 'cdrom';
}

const disk = (drive: string, name: string): StandardDriveSpec => ({ drive, name, media: 'disk' });
const cdrom = (drive: string, name: string): StandardDriveSpec => ({ drive, name, media: 'cdrom' });

export const STANDARD_DRIVES: readonly StandardDriveSpec[] = [
  disk('38df0986-4d85-4b76-b502-3878ffc80161', 'CentOS Linux 5.5'),
  disk('980cf63c-f21e-4382-997b-6541d5809629', 'Debian Linux 6.0'),
  disk('aee5589a-88c3-43ef-bb0a-9cab6e64192d', 'Ubuntu Linux 10.04'),
  disk('b9d0eb72-d273-43f1-98e3-0d4b87d372c0', 'Windows Web Server 2008'),
  disk('30824e97-05a4-410c-946e-2ba5a92b07cb', 'Windows Web Server 2008 R2'),
  disk('9ecf810e-6ad1-40ef-b360-d606f0444671', 'Windows Web Server 2008 R2 + SQL Server'),
  disk('10a88d1c-6575-46e3-8d2c-7744065ea530', 'Windows Web Server Standard'),
  disk('2567f25c-8fb8-45c7-95fc-bfe3c3d84c47', 'Windows Web Server Standard R2 + SQL Server'),
  cdrom('b86afe3a-b5dc-4184-9ef0-3a52dce63238', 'CentOS Linux 5.3 Install CD'),
  cdrom('ac646eda-62be-4366-8cc9-10afdf6506b5', 'CentOS Linux 5.4 Install CD'),
  cdrom('5f029de7-1729-486b-9bb3-65e326febb4d', 'CentOS Linux 5.5 Install CD'),
  cdrom('adb59223-edcf-418f-a74c-8a9b4788e1d6', 'Debian Linux 5.0 Install CD'),
  cdrom('86f52611-567b-40b9-8db7-933ad4f483d7', 'FreeBSD 7.2 Install CD'),
  cdrom('a080dce0-2f28-4e42-9db6-1c5f410a3da8', 'FreeBSD 8.0 Install CD'),
  cdrom('a1cd7ea0-6539-4cb6-b35f-03c9a6b61917', 'Knoppix Linux 6.0.1 Live CD'),
  cdrom('b36bd91f-ce93-45c3-946a-d095018681c0', 'OpenSolaris 2009 06 Install CD'),
  cdrom('c06a0aa9-9919-4e0f-92a0-c67b6799a732', 'Red Hat Fedora Linux 10 Install CD'),
  cdrom('9b283809-2990-4f3b-a4e9-8b59a417536c', 'Red Hat Fedora Linux 10 Live CD'),
  cdrom('b3df1320-5f11-4ebd-bd8c-2eef0e2ffe0d', 'Red Hat Fedora Linux 11 Install CD'),
  cdrom('bf3cf10d-d07b-47de-b79c-327983182ef0', 'Red Hat Fedora Linux 11 Live CD'),
  cdrom('d10281f4-3bf1-4a98-bc0c-6dcec04fd995', 'Red Hat Fedora Linux 12 Install CD'),
  cdrom('c0ae458c-d5fb-4d9c-ae3c-778c12fe0649', 'Red Hat Fedora Linux 12 Live CD'),
  cdrom('d2511065-1d4f-46e5-936a-c6b5c32a7556', 'Red Hat Fedora Linux 13 Install CD'),
  cdrom('853bb98a-4fff-4c2f-a265-97c363f19ea5', 'Red Hat Fedora Linux 13 Live CD'),
  cdrom('5d63810b-6e11-4a26-a820-9e0e92c2f35c', 'Ubuntu Linux 8.04.2 LTS Server Install CD'),
  cdrom('b06b793a-2aa6-433b-80b2-1863eacd3391', 'Ubuntu Linux 8.10 Server Install CD'),
  cdrom('95a324fd-3e45-498d-812f-98778bd127b9', 'Ubuntu Linux 9.04 Server Install CD'),
  cdrom('c90a801d-679e-4647-81ac-3146da724c62', 'Ubuntu Linux 9.10 Server Install CD'),
  cdrom('37e0f871-8a71-4b15-9478-ada0109dcce5', 'Ubuntu Linux 10.04 Server Install CD'),
  cdrom('f89af28e-ff00-4fc9-a7ed-22e7fa5a88db', 'Windows Server 2008 Trial Install CD'),
  cdrom('7aead6d3-c3e6-4940-85c7-f5ee61f6ef2b', 'Windows Web Server 2008 Trial Install CD'),
];

const MiB = 1024 * 1024;
const RAW_SIZE = { disk: 4 * MiB, cdrom: 2 * MiB } as const;
const WORDS = [
  'kernel', 'module', 'config', 'network', 'eth0', 'dhcp', 'root', 'mount', 'proc', 'sysfs', 'install',
  'package', 'lib', 'usr', 'bin', 'etc', 'var', 'log', 'daemon', 'service', 'start', 'stop', 'boot',
  'grub', 'initrd', 'vmlinuz', 'locale', 'en_GB.UTF-8', 'timezone', 'Europe/London', 'ssh', 'sshd',
];

function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}

/** Plausible text-file content: compressible but not trivially repetitive. */
function textBlock(random: () => number, bytes: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  while (length < bytes) {
    const n = 3 + Math.floor(random() * 6);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(random() * WORDS.length)]!);
    const line = `${words.join(' ')} ${Math.floor(random() * 100000)}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** The raw (gunzipped) image of one library drive. */
export function generateRawImage(spec: StandardDriveSpec): Buffer {
  const random = seededRandom(seedOf(spec.drive));
  const raw = Buffer.alloc(RAW_SIZE[spec.media]);
  if (spec.media === 'disk') {
    // Boot sector: some boot code, one Linux partition from sector 2048, the 0x55AA signature.
    for (let i = 0; i < 440; i++) raw[i] = Math.floor(random() * 256);
    raw.writeUInt8(0x80, 446);
    raw.writeUInt8(0x83, 450);
    raw.writeUInt32LE(2048, 454);
    raw.writeUInt32LE(raw.length / 512 - 2048, 458);
    raw.writeUInt16LE(0xaa55, 510);
    // ext2 superblock magic at partition start + 1024 + 56.
    raw.writeUInt16LE(0xef53, MiB + 1024 + 56);
  } else {
    // ISO 9660 primary volume descriptor at sector 16.
    raw.write('\x01CD001\x01', 16 * 2048, 'latin1');
    raw.write(spec.name.toUpperCase().replace(/[^A-Z0-9]/g, '_').slice(0, 32), 16 * 2048 + 40, 'latin1');
  }
  // Files scattered through the image with zero gaps between them, as on a sparse install.
  const blocks = raw.length / (64 * 1024);
  for (let b = 2 + (spec.media === 'disk' ? 16 : 0); b < blocks; b++) {
    if (random() < 0.25) textBlock(random, 16 * 1024 + Math.floor(random() * 48 * 1024)).copy(raw, b * 64 * 1024);
  }
  return raw;
}

export interface StandardImage extends StandardDriveSpec {
  gzip: Buffer;
  rawsize: number;
}

let library: Promise<StandardImage[]> | undefined;

/** The library images, generated on first use and shared by every emulator in the process. */
export function standardImages(): Promise<StandardImage[]> {
  library ??= Promise.all(
    STANDARD_DRIVES.map(async (spec) => {
      const raw = generateRawImage(spec);
      return { ...spec, gzip: await gzipAsync(raw), rawsize: raw.length };
    }),
  );
  return library;
}
