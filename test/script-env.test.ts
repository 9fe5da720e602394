/**
 * One typed environment contract per script (src/private/script-env.ts): it matches the `# Environment:` block of each
 * script's header, and every container that runs a script sets only variables of that script's contract.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EmbeddedPostgresPitr, RecoveryTarget, RestoreMode } from '../src';
import { chart, REFERENCE, synth } from './util';
import { SCRIPT_ENVIRONMENT, SECRET_VARIABLES } from '../src/private/script-env';

const SCRIPTS_DIR = path.join(__dirname, '..', 'src', 'scripts');

/** The variable names of a script's `# Environment:` header block. */
function documented(file: string): string[] {
  const lines = fs.readFileSync(path.join(SCRIPTS_DIR, file), 'utf8').split('\n');
  const start = lines.findIndex(l => l.startsWith('# Environment'));
  if (start < 0) {
    return [];
  }
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^#   (\S.*?)(\s{2,}|$)/.exec(line);
    if (m) {
      names.push(...(m[1].match(/\b[A-Z][A-Z0-9_]{2,}\b/g) ?? []));
    } else if (!/^#\s{4,}\S/.test(line)) {
      break; // the block ends at the first line that is neither an entry nor its continuation
    }
  }
  return names;
}

describe('script environment contracts', () => {
  test.each(fs.readdirSync(SCRIPTS_DIR).filter(f => f.endsWith('.sh')))('%s: the contract is the documented environment', file => {
    const contract = (SCRIPT_ENVIRONMENT as Record<string, readonly string[]>)[file] ?? [];
    expect([...documented(file)].sort()).toEqual([...contract].sort());
  });

  test('every container that runs a script sets only its contract\'s variables, and secrets only through secretKeyRef', () => {
    const c = chart();
    const pitr = new EmbeddedPostgresPitr(c, 'pitr', { ...REFERENCE, walArchiveStorageAccessMode: 'ReadWriteMany', kubegres: {} });
    pitr.addRestore(RecoveryTarget.latest(), { mode: RestoreMode.AUTOMATIC });
    pitr.addRecoveryWindowReport();
    pitr.addRestorePoint();
    pitr.addRestoreDrill({ checks: [{ name: 'one', sql: 'SELECT 1', expected: '1' }] });
    const containers = synth(c).flatMap(o => (o.spec?.jobTemplate?.spec?.template?.spec ?? o.spec?.template?.spec ?? (o.kind === 'Pod' ? o.spec : undefined))?.containers ?? []);
    const checked: string[] = [];
    for (const container of containers) {
      const script = String(container.command?.[1] ?? '').split('/').pop()!;
      if (!(script in SCRIPT_ENVIRONMENT)) {
        continue;
      }
      const contract = (SCRIPT_ENVIRONMENT as Record<string, readonly string[]>)[script];
      for (const e of container.env ?? []) {
        expect(`${script}: ${e.name} ${contract.includes(e.name)}`).toBe(`${script}: ${e.name} true`);
        // The one value from the downward API: the restore point's name is its Job's name (a pod label).
        if (e.valueFrom?.fieldRef) {
          expect(`${script}: ${e.name} ${e.valueFrom.fieldRef.fieldPath}`).toBe('create-restore-point.sh: RESTORE_POINT_NAME metadata.labels[\'job-name\']');
          continue;
        }
        expect(e.value === undefined).toBe(SECRET_VARIABLES.includes(e.name));
      }
      checked.push(script);
    }
    expect(checked.sort()).toEqual(['base-backup.sh', 'create-restore-point.sh', 'recovery-window.sh', 'restore-data.sh', 'restore-drill.sh']);
  });
});
