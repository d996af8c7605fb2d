import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DrivesnapError } from '../../src/errors.js';
import { type JobFile, JobFileError, loadJobFile } from '../../src/ops/jobfile.js';

const docs = readFileSync(new URL('../../docs/jobfile.md', import.meta.url), 'utf8');

function codeBlock(lang: string): string {
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(docs);
  if (!match) throw new Error(`docs/jobfile.md has no ${lang} block`);
  return match[1]!;
}

const expectedExample: JobFile = {
  repository: {
    location: 's3://backups/drivesnap',
    passwordFile: '/etc/drivesnap/password',
    s3Endpoint: 'https://s3.eu-west-1.amazonaws.com',
  },
  accounts: ['eh', 'lon'],
  drives: [
    { kind: 'drive', account: 'eh', drive: 'web-1' },
    { kind: 'tagged', account: 'lon', tags: ['prod'] },
    { kind: 'all', account: 'eh' },
  ],
  tags: ['nightly'],
  retention: {
    last: 3,
    daily: 7,
    weekly: 4,
    monthly: 12,
    yearly: -1,
    within: '2d',
    keepTags: ['pinned'],
    groupBy: ['drive'],
  },
  prune: { every: '7d' },
  check: { every: '30d', readDataSubset: 5 },
  concurrency: 8,
  bandwidthLimit: 50 * 1024 * 1024,
  schedule: '0 3 * * *',
  timeZone: 'Europe/London',
};

/** The problems a job file raises, as `file:line: path: message` strings. */
function problems(text: string, fileName = 'jobs.yaml'): string[] {
  try {
    loadJobFile(text, fileName);
  } catch (err) {
    if (!(err instanceof JobFileError)) throw err;
    return err.problems.map((p) => `${fileName}:${p.line}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`);
  }
  throw new Error('expected the job file to be refused');
}

const minimal = 'repository:\n  location: /srv/repo\ndrives:\n  - eh:web-1\n';

describe('loadJobFile: valid files', () => {
  it('reads the complete YAML example in docs/jobfile.md', () => {
    expect(loadJobFile(codeBlock('yaml'), 'jobs.yaml')).toEqual(expectedExample);
  });

  it('reads the JSON example in docs/jobfile.md to the same job', () => {
    expect(loadJobFile(codeBlock('json'), 'jobs.json')).toEqual(expectedExample);
  });

  it('fills defaults and derives accounts from the drives when none are listed', () => {
    const text = `${minimal}  - { account: lon, all: true }\n  - eh:db-1\nretention: { daily: 7 }\n`;
    expect(loadJobFile(text, 'jobs.yaml')).toEqual({
      repository: { location: '/srv/repo' },
      accounts: ['eh', 'lon'],
      drives: [
        { kind: 'drive', account: 'eh', drive: 'web-1' },
        { kind: 'all', account: 'lon' },
        { kind: 'drive', account: 'eh', drive: 'db-1' },
      ],
      tags: [],
      retention: { daily: 7, groupBy: ['drive'] },
      timeZone: 'UTC',
    });
  });

  it('keeps the drive part after the first colon whole', () => {
    expect(loadJobFile(`repository: { location: /r }\ndrives: ["eh:name:with:colons"]\n`, 'j.yaml').drives).toEqual([
      { kind: 'drive', account: 'eh', drive: 'name:with:colons' },
    ]);
  });

  it('accepts a bandwidth limit as a plain number of bytes per second', () => {
    expect(loadJobFile(`${minimal}bandwidthLimit: 1000\n`, 'j.yaml').bandwidthLimit).toBe(1000);
  });
});

describe('loadJobFile: errors name the file, line and field', () => {
  it('throws a DrivesnapError with code JOBFILE_INVALID and exit code 2, first problem in the message', () => {
    const text = [
      'repository:',
      '  location: /srv/repo',
      'drives:',
      '  - eh:web-1',
      '  - acount: lon', // line 5
      '    tags: [prod]',
    ].join('\n');
    let caught: unknown;
    try {
      loadJobFile(text, 'jobs.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DrivesnapError);
    expect(caught).toMatchObject({ code: 'JOBFILE_INVALID', exitCode: 2 });
    expect((caught as Error).message).toBe('jobs.yaml:5: drives[1]: unknown key "acount" (and 1 more)');
    expect(problems(text)).toEqual([
      'jobs.yaml:5: drives[1]: unknown key "acount"',
      'jobs.yaml:5: drives[1].account: required field is missing',
    ]);
  });

  it('reports unknown keys at the top level and in nested mappings on their own lines', () => {
    const text = `${minimal}retention:\n  daily: 7\n  keep_weekly: 4\nschedul: "0 3 * * *"\n`;
    expect(problems(text)).toEqual([
      'jobs.yaml:7: retention: unknown key "keep_weekly"',
      'jobs.yaml:8: unknown key "schedul"',
    ]);
  });

  it('refuses a password in the file and explains where it goes', () => {
    const text = 'repository:\n  location: /srv/repo\n  password: hunter2\ndrives: [eh:a]\n';
    expect(problems(text)).toEqual([
      'jobs.yaml:3: repository: a job file never holds the password: use passwordFile or passwordEnv',
    ]);
  });

  it('reports a missing field at the line of the mapping that should hold it', () => {
    expect(problems('# job\nrepository:\n  passwordEnv: PW\ndrives: [eh:a]\n')).toEqual([
      'jobs.yaml:2: repository.location: required field is missing',
    ]);
    expect(problems('repository: { location: /r }\n')).toEqual(['jobs.yaml:1: drives: required field is missing']);
  });

  it('explains each kind of drive entry mistake at its line', () => {
    const text = `${minimal}  - 5\n  - { account: eh }\n  - eh\n  - { account: eh, all: false }\n`;
    expect(problems(text)).toEqual([
      'jobs.yaml:5: drives[1]: expected "ACCOUNT:DRIVE", { account, tags: [...] } or { account, all: true }',
      'jobs.yaml:6: drives[2]: give exactly one of tags: [...] or all: true',
      'jobs.yaml:7: drives[3]: expected ACCOUNT:DRIVE, e.g. "eh:web-1"',
      'jobs.yaml:8: drives[4].all: expected true (leave the entry out to back up nothing)',
    ]);
  });

  it('requires every drive to use a listed account', () => {
    const text = `${minimal}  - lon:db\naccounts: [eh]\n`;
    expect(problems(text)).toEqual(['jobs.yaml:5: drives[1]: account "lon" is not listed in accounts']);
  });

  it('checks values: counts, durations, percentages, sizes, concurrency, cron and time zone', () => {
    const text = [
      minimal.trimEnd(),
      'retention: { daily: -2, within: 7x }', // line 5
      'prune: { every: 0d }',
      'check: { every: 1d, readDataSubset: 150% }',
      'concurrency: 0',
      'bandwidthLimit: fast',
      'schedule: "61 * * * *"', // line 10
      'timeZone: Mars/Base',
    ].join('\n');
    expect(problems(text)).toEqual([
      'jobs.yaml:5: retention.daily: expected a whole number, or -1 for unlimited',
      'jobs.yaml:5: retention.within: invalid duration "7x": cannot read "7x"; write numbers with units y, m, w, d, h, e.g. 7d, 2w, 1y2m, 36h',
      'jobs.yaml:6: prune.every: must be longer than zero',
      'jobs.yaml:7: check.readDataSubset: expected a percentage above 0% and at most 100%',
      'jobs.yaml:8: concurrency: expected a whole number from 1 to 256',
      'jobs.yaml:9: bandwidthLimit: expected bytes per second such as "50M" (a number with optional k, M, G or T)',
      'jobs.yaml:10: schedule: invalid schedule "61 * * * *": Invalid value for minute: 61; use a cron expression such as "0 3 * * *"',
      'jobs.yaml:11: timeZone: unknown time zone "Mars/Base": use an IANA name such as UTC or Europe/London',
    ]);
  });

  it('refuses a schedule that never fires and a retention without rules', () => {
    expect(problems(`${minimal}schedule: "0 0 30 2 *"\nretention: { groupBy: [host] }\n`)).toEqual([
      'jobs.yaml:5: schedule: schedule "0 0 30 2 *" never runs',
      'jobs.yaml:6: retention: needs at least one rule: last, hourly, daily, weekly, monthly, yearly, within or keepTags',
    ]);
  });

  it('says what type was expected and what was found', () => {
    expect(problems(`${minimal}tags: nightly\n`)).toEqual(['jobs.yaml:5: tags: expected array, got string "nightly"']);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems('repository:\n  location: /r\n  location: /s\ndrives: [eh:a]\n')).toEqual([
      expect.stringMatching(/^jobs\.yaml:3: Map keys must be unique$/),
    ]);
  });

  it('reports JSON errors with their line', () => {
    const json = '{\n  "repository": { "location": "/r" },\n  "drives": [\n    "eh:a",\n    { "acount": "eh", "all": true }\n  ]\n}\n';
    expect(problems(json, 'jobs.json')[0]).toBe('jobs.json:5: drives[1]: unknown key "acount"');
  });

  it('refuses an empty file and a file that is not a mapping', () => {
    expect(problems('# nothing\n')).toEqual(['jobs.yaml:1: the job file is empty; see docs/jobfile.md']);
    expect(problems('- a\n- b\n')).toEqual(['jobs.yaml:1: expected object, got a list']);
  });
});

describe('loadJobFile: problems do not cascade', () => {
  it('reports malformed drive entries for what they are, with no invented account problem', () => {
    const text = 'repository: { location: /r }\naccounts: [eh]\ndrives:\n  - eh\n  - { account: lon }\n';
    expect(problems(text)).toEqual([
      'jobs.yaml:4: drives[0]: expected ACCOUNT:DRIVE, e.g. "eh:web-1"',
      'jobs.yaml:5: drives[1]: give exactly one of tags: [...] or all: true',
    ]);
  });

  it('does not call an empty retention what is only a bad within', () => {
    expect(problems(`${minimal}retention: { within: soon }\n`)).toEqual([
      expect.stringMatching(/^jobs\.yaml:5: retention\.within: invalid duration "soon"/),
    ]);
  });
});
