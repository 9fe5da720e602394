/**
 * Stand-ins put first on PATH to watch what a script does: a `sync` that records every call (its operands and what
 * was on disk at that moment) before running the real one, and a `date` whose clock jumps forward once a new
 * complete backup exists.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** One recorded `sync` call. */
export interface SyncCall {
  /** The operands (`--` dropped); empty for a full sync. */
  readonly operands: string[];
  /** For each operand: `f<size>` for a file, `d` for a folder, `-` when it does not exist. */
  readonly kinds: string[];
  /** The entries of the watched folder at the time of the call, two levels deep, as `a` and `a/b`, sorted. */
  readonly watched: string[];
}

/** Writes a file (the drill passes a writer that gives it to the postgres user). */
export type Writer = (file: string, text: string, mode: number) => void;

const defaultWriter: Writer = (file, text, mode) => {
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
};

/** The absolute path of a command, failing loudly when it is missing. */
export function realCommand(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8', env: { PATH: '/usr/local/bin:/usr/bin:/bin' } });
  const found = r.stdout.trim();
  if (r.status !== 0 || !found.startsWith('/')) {
    throw new Error(`${name} not found on PATH: apt-get install -y coreutils (the check is never skipped)`);
  }
  return found;
}

/**
 * Writes `<binDir>/sync`: it appends one line per call to `$PITR_SYNC_LOG` (operands, their kind and size, and the
 * entries of `$PITR_SYNC_WATCH` when set), then runs the real sync with the same arguments.
 */
export function writeRecordingSync(binDir: string, write: Writer = defaultWriter): void {
  write(path.join(binDir, 'sync'), `#!/bin/sh
# A recording sync for tests: one line per call, then the real sync.
{
  sep=''
  for a in "$@"; do [ "$a" = -- ] && continue; printf '%s%s' "$sep" "$a"; sep='|'; done
  printf '\\t'
  sep=''
  for a in "$@"; do
    [ "$a" = -- ] && continue
    if [ -f "$a" ]; then k="f$(wc -c <"$a" | tr -d ' ')"; elif [ -d "$a" ]; then k=d; else k=-; fi
    printf '%s%s' "$sep" "$k"; sep='|'
  done
  printf '\\t'
  if [ -n "\${PITR_SYNC_WATCH:-}" ]; then (cd "$PITR_SYNC_WATCH" && find . -mindepth 1 -maxdepth 2 | sed 's|^\\./||' | sort | tr '\\n' '|'); fi
  printf '\\n'
} >>"$PITR_SYNC_LOG"
exec ${realCommand('sync')} "$@"
`, 0o755);
}

/** The calls a recording sync logged, in order. */
export function readSyncLog(file: string): SyncCall[] {
  if (!fs.existsSync(file)) {
    return [];
  }
  return fs.readFileSync(file, 'utf8').split('\n').filter(l => l !== '').map(line => {
    const [operands, kinds, watched] = line.split('\t');
    const list = (s: string | undefined) => (s ?? '').split('|').filter(Boolean);
    return { operands: list(operands), kinds: list(kinds), watched: list(watched) };
  });
}

/**
 * Writes `<binDir>/date`: `date -u +%s` answers `$PITR_CLOCK_JUMP` seconds late once a complete backup's
 * `$BACKUP_DIR/<folder>/pitr_backup_info` is newer than the file `$PITR_CLOCK_STAMP`; every other call is the real date.
 * So a backup run sees the real time until its own backup is published, then a clock far ahead: the newest backup
 * is expired on purpose, whatever the machine's speed.
 */
export function writeJumpingDate(binDir: string, write: Writer = defaultWriter): void {
  const real = realCommand('date');
  write(path.join(binDir, 'date'), `#!/bin/sh
# A date for tests whose clock jumps forward once a new complete backup exists.
if [ "$#" -eq 2 ] && [ "$1" = -u ] && [ "$2" = +%s ]; then
  for f in "$BACKUP_DIR"/*/pitr_backup_info; do
    if [ -f "$f" ] && [ "$f" -nt "$PITR_CLOCK_STAMP" ]; then
      echo $(($(${real} -u +%s) + PITR_CLOCK_JUMP))
      exit 0
    fi
  done
fi
exec ${real} "$@"
`, 0o755);
}
