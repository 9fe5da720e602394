/**
 * archive-wal.sh and restore-wal.sh run as PostgreSQL runs them, against temporary folders: the archive flushes the
 * copy before it gets its name and the folder after; the restore of a missing file exits 1 and a failed copy leaves
 * nothing at %p.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readSyncLog, writeRecordingSync } from './recording-tools';

const SCRIPTS = path.join(__dirname, '..', 'src', 'scripts');
const SEGMENT = '000000010000000000000003';

let root: string;
let bin: string;
let archive: string;
let pgdata: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pitr-wal-scripts-'));
  bin = path.join(root, 'bin');
  archive = path.join(root, 'wal-archive');
  pgdata = path.join(root, 'pgdata');
  for (const d of [bin, archive, path.join(pgdata, 'pg_wal')]) {
    fs.mkdirSync(d, { recursive: true });
  }
  writeRecordingSync(bin);
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** Runs a script as the server does: `/bin/sh <script> ARGS` in the data directory, recording syncs. */
function script(name: string, args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync('/bin/sh', [path.join(SCRIPTS, name), ...args], {
    cwd: pgdata,
    encoding: 'utf8',
    env: {
      PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
      WAL_ARCHIVE_DIR: archive,
      PITR_SYNC_LOG: path.join(root, 'sync.log'),
      PITR_SYNC_WATCH: archive,
      ...extra,
    },
  });
  if (r.error) {
    throw r.error;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, syncs: readSyncLog(path.join(root, 'sync.log')) };
}

describe('archive-wal.sh flushes', () => {
  test('compressed (the default): the stored file is NAME.zst, flushed under its temporary name, then the folder', () => {
    const content = walSegment(65536, BigInt(42));
    fs.writeFileSync(path.join(archive, 'pitr_identity'), 'system_identifier=42\npg_major=15\n');
    fs.writeFileSync(path.join(pgdata, 'pg_wal', SEGMENT), content);
    const r = script('archive-wal.sh', [`pg_wal/${SEGMENT}`, SEGMENT]);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', `archive-wal.sh: archived ${SEGMENT} as ${SEGMENT}.zst\n`]);
    expect(fs.readdirSync(archive)).toEqual([`${SEGMENT}.zst`, 'pitr_identity']);
    expect(spawnSync('zstd', ['-dcq', path.join(archive, `${SEGMENT}.zst`)]).stdout).toEqual(content);
    expect(r.syncs).toHaveLength(2);
    const [file, folder] = r.syncs;
    expect(path.basename(file.operands[0])).toMatch(new RegExp(`^\\.archive-wal\\.${SEGMENT}\\.\\d+\\.tmp$`));
    expect(file.watched).toEqual([path.basename(file.operands[0]), 'pitr_identity']);
    expect(folder.operands).toEqual([archive]);
    expect(folder.watched).toEqual([`${SEGMENT}.zst`, 'pitr_identity']);
  });

  test('plain (WAL_ARCHIVE_COMPRESSION=none): the complete copy is flushed under its temporary name, then the folder once the segment has its name', () => {
    const content = walSegment(65536, BigInt(42));
    fs.writeFileSync(path.join(archive, 'pitr_identity'), 'system_identifier=42\npg_major=15\n');
    fs.writeFileSync(path.join(pgdata, 'pg_wal', SEGMENT), content);
    const r = script('archive-wal.sh', [`pg_wal/${SEGMENT}`, SEGMENT], { WAL_ARCHIVE_COMPRESSION: 'none' });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', `archive-wal.sh: archived ${SEGMENT} as ${SEGMENT}\n`]);
    expect(fs.readFileSync(path.join(archive, SEGMENT))).toEqual(content);

    expect(r.syncs).toHaveLength(2);
    const [file, folder] = r.syncs;
    // First the copy, whole, under a hidden temporary name in the archive, while the segment has no name there yet.
    expect(file.operands).toHaveLength(1);
    expect(path.dirname(file.operands[0])).toBe(archive);
    expect(path.basename(file.operands[0])).toMatch(new RegExp(`^\\.archive-wal\\.${SEGMENT}\\.\\d+\\.tmp$`));
    expect(file.kinds).toEqual([`f${content.length}`]);
    expect(file.watched).toEqual([path.basename(file.operands[0]), 'pitr_identity']);
    // Then the archive folder, once the segment has its final name and the temporary name is gone.
    expect(folder.operands).toEqual([archive]);
    expect(folder.kinds).toEqual(['d']);
    expect(folder.watched).toEqual([SEGMENT, 'pitr_identity']);
  });

  test('the first segment writes the archive\'s identity, flushed, before the segment; a segment of another system is refused', () => {
    fs.writeFileSync(path.join(pgdata, 'PG_VERSION'), '15\n');
    fs.writeFileSync(path.join(pgdata, 'pg_wal', SEGMENT), walSegment(8192, BigInt(42)));
    const r = script('archive-wal.sh', [`pg_wal/${SEGMENT}`, SEGMENT]);
    expect(r.status).toBe(0);
    const id = fs.readFileSync(path.join(archive, 'pitr_identity'), 'utf8');
    expect(id).toMatch(/^system_identifier=42\npg_major=15\ntimeline=1\nlibrary_version=\S+\nwritten_at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    // The identity's own copy, then the folder with the identity in it, then the segment's copy and the folder.
    expect(r.syncs.map(c => c.operands.map(o => path.basename(o).replace(/\.\d+\.tmp$/, '.tmp')))).toEqual([
      ['pitr_identity.tmp'], [path.basename(archive)], [`.archive-wal.${SEGMENT}.tmp`], [path.basename(archive)],
    ]);
    const next = '000000010000000000000002';
    fs.writeFileSync(path.join(pgdata, 'pg_wal', next), walSegment(8192, BigInt(43)));
    const foreign = script('archive-wal.sh', [`pg_wal/${next}`, next]);
    expect(foreign.status).toBe(1);
    expect(foreign.stderr).toContain('belongs to database system 42 (its pitr_identity), and 000000010000000000000002 comes from system 43');
    expect(fs.existsSync(path.join(archive, next))).toBe(false);
  });

  test('a segment already archived with the same content is not copied or flushed again', () => {
    fs.writeFileSync(path.join(pgdata, 'pg_wal', SEGMENT), 'same');
    fs.writeFileSync(path.join(archive, SEGMENT), 'same');
    const r = script('archive-wal.sh', [`pg_wal/${SEGMENT}`, SEGMENT]);
    expect(r.status).toBe(0);
    expect(r.syncs).toEqual([]);
  });
});

/** A WAL segment of `size` bytes whose first page header names PostgreSQL 15 and the system `sysid`. */
function walSegment(size: number, sysid: bigint): Buffer {
  const b = Buffer.alloc(size, 7);
  b.writeUInt16LE(0xD110, 0);
  b.writeUInt16LE(0x0006, 2);
  b.writeBigUInt64LE(sysid, 24);
  return b;
}

describe('restore-wal.sh contract', () => {
  test('a file in the archive is copied to %p, byte for byte, with nothing else left beside it', () => {
    fs.writeFileSync(path.join(archive, SEGMENT), Buffer.alloc(4096, 3));
    const r = script('restore-wal.sh', [SEGMENT, 'pg_wal/RECOVERYXLOG']);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', `restore-wal.sh: restored ${SEGMENT}\n`]);
    expect(fs.readFileSync(path.join(pgdata, 'pg_wal', 'RECOVERYXLOG'))).toEqual(Buffer.alloc(4096, 3));
    expect(fs.readdirSync(path.join(pgdata, 'pg_wal'))).toEqual(['RECOVERYXLOG']);
  });

  test.each([SEGMENT, '00000002.history'])('%s not in the archive: exit 1, one line on stderr, nothing at %%p', name => {
    const r = script('restore-wal.sh', [name, 'pg_wal/RECOVERYXLOG']);
    expect([r.status, r.stdout, r.stderr]).toEqual([1, '', `restore-wal.sh: ${name} not in archive\n`]);
    expect(fs.readdirSync(path.join(pgdata, 'pg_wal'))).toEqual([]);
  });

  test('a copy that fails halfway exits 1 and leaves no partial file at %p, nor a temporary one', () => {
    fs.writeFileSync(path.join(archive, SEGMENT), Buffer.alloc(8192, 5));
    // A read of the plain archived file that writes half of it, then fails (a full disk).
    fs.writeFileSync(path.join(bin, 'cat'), '#!/bin/sh\n[ "$1" = -- ] && shift\nhead -c 4096 "$1"\nexit 1\n', { mode: 0o755 });
    const r = script('restore-wal.sh', [SEGMENT, 'pg_wal/RECOVERYXLOG']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^restore-wal\.sh: ERROR: reading the archived .* into '.*' failed\n$/);
    expect(fs.readdirSync(path.join(pgdata, 'pg_wal'))).toEqual([]);
  });

  test('the exit code stays below 126 on every failure, so the server never aborts its startup', () => {
    for (const args of [[SEGMENT, 'pg_wal/X'], ['', 'pg_wal/X'], ['../x', 'pg_wal/X'], [SEGMENT, ''], [SEGMENT]]) {
      const r = script('restore-wal.sh', args);
      expect([args, r.status]).toEqual([args, 1]);
    }
  });

  test('a compressed file that fails to decompress halfway exits 1 and leaves nothing at %p', () => {
    fs.writeFileSync(path.join(archive, `${SEGMENT}.zst`), spawnSync('zstd', ['-q', '-c'], { input: Buffer.alloc(1024 * 1024, 5) }).stdout.subarray(0, 40));
    const r = script('restore-wal.sh', [SEGMENT, 'pg_wal/RECOVERYXLOG']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/restore-wal\.sh: ERROR: reading the archived .* into '.*' failed\n$/);
    expect(fs.readdirSync(path.join(pgdata, 'pg_wal'))).toEqual([]);
  });

  test('a compressed file is decompressed to %p', () => {
    fs.writeFileSync(path.join(archive, `${SEGMENT}.zst`), spawnSync('zstd', ['-q', '-c'], { input: Buffer.alloc(8192, 9) }).stdout);
    const r = script('restore-wal.sh', [SEGMENT, 'pg_wal/RECOVERYXLOG']);
    expect([r.status, r.stderr]).toEqual([0, `restore-wal.sh: restored ${SEGMENT}\n`]);
    expect(fs.readFileSync(path.join(pgdata, 'pg_wal', 'RECOVERYXLOG'))).toEqual(Buffer.alloc(8192, 9));
  });
});
