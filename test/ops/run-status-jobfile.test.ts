/**
 * The job file's `status` block and `fullReadEvery` (src/ops/jobfile-schema.ts): the snippet in
 * docs/jobfile.md reads as documented; a ping URL with credentials, an empty block, a bad method and a
 * bad duration are refused with a message naming the field.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadJobFile } from '../../src/ops/jobfile.js';

const docs = readFileSync(new URL('../../docs/jobfile.md', import.meta.url), 'utf8');
const base = 'repository:\n  location: /srv/repo\ndrives: [eh:web-1]\n';

describe('job file status block and fullReadEvery', () => {
  it('reads the status snippet of docs/jobfile.md, POST by default', () => {
    const snippet = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.startsWith('status:'));
    expect(snippet).toBeDefined();
    expect(loadJobFile(base + snippet, 'jobs.yaml')).toMatchObject({
      fullReadEvery: '14d',
      status: { file: '/var/lib/drivesnap/nightly.json', ping: { url: 'https://hc-ping.com/YOUR-UUID', method: 'POST' } },
    });
    expect(loadJobFile(`${base}status: { ping: { url: "http://127.0.0.1:9/x" } }\n`, 'j.yaml')).toMatchObject({ status: { ping: { method: 'POST' } } });
  });

  it.each([
    ['status:\n  ping: { url: "https://u:p@hc-ping.com/a" }\n', /status\.ping\.url: put no user name or password/],
    ['status: {}\n', /status: give at least one of file, prometheus or ping/],
    ['status:\n  ping: { url: "ftp://x.io/a" }\n', /status\.ping\.url: expected an http\(s\) URL/],
    ['status:\n  ping: { url: "https://x.io/a", method: PUT }\n', /status\.ping\.method: expected GET or POST/],
    ['status: { file: a.json, pager: x }\n', /unknown key/],
    ['fullReadEvery: soon\n', /fullReadEvery/],
  ])('refuses %j', (text, message) => {
    expect(() => loadJobFile(base + text, 'j.yaml')).toThrow(message);
  });
});
