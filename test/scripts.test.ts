/**
 * The shipped scripts are code: every one is clean under shellcheck as POSIX sh, and the ConfigMap ships them
 * byte for byte.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PitrScript, PitrScripts } from '../src';
import { chart, find, synth } from './util';

const SCRIPTS_DIR = path.join(__dirname, '..', 'src', 'scripts');
const files = fs.readdirSync(SCRIPTS_DIR).filter(f => f.endsWith('.sh')).sort();

describe('shipped scripts', () => {
  test('every script the constructs run is in the package', () => {
    for (const script of Object.values(PitrScript)) {
      expect(files).toContain(script);
    }
  });

  test.each(files)('%s is clean under shellcheck (POSIX sh)', (file) => {
    const version = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    if (version.error || version.status !== 0) {
      throw new Error('shellcheck is not installed: apt-get install -y shellcheck (the check is never skipped)');
    }
    const text = fs.readFileSync(path.join(SCRIPTS_DIR, file), 'utf8');
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    const r = spawnSync('shellcheck', ['--shell=sh', '--severity=style', '--external-sources', path.join(SCRIPTS_DIR, file)],
      { encoding: 'utf8', cwd: SCRIPTS_DIR });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('no script is over 200 lines', () => {
    const long = files
      .map(file => ({ file, lines: fs.readFileSync(path.join(SCRIPTS_DIR, file), 'utf8').split('\n').length - 1 }))
      .filter(f => f.lines > 200);
    expect(long).toEqual([]);
  });

  test.each(['fail', 'log', 'warn', 'is_uint', 'flush'])('%s is defined once, in pitr-lib.sh only', (fn) => {
    const definition = new RegExp(`^${fn}\\(\\)`, 'gm');
    const found = files.flatMap(file => (fs.readFileSync(path.join(SCRIPTS_DIR, file), 'utf8').match(definition) ?? []).map(() => file));
    expect(found).toEqual(['pitr-lib.sh']);
  });

  test('every script that is run, not sourced, sources pitr-lib.sh and ends with main "$@"', () => {
    const texts = Object.fromEntries(files.map(file => [file, fs.readFileSync(path.join(SCRIPTS_DIR, file), 'utf8')]));
    const sourced = new Set(Object.values(texts).flatMap(text => [...text.matchAll(/^\. "\$script_dir\/([a-z-]+\.sh)"$/gm)].map(m => m[1])));
    expect(sourced).toContain('pitr-lib.sh');
    const run = files.filter(file => !sourced.has(file));
    expect(run).toEqual(expect.arrayContaining([...Object.values(PitrScript), 'pitr-catalog.sh']));
    for (const file of run) {
      expect([file, /^\. "\$script_dir\/pitr-lib\.sh"$/m.test(texts[file]), texts[file].endsWith('\nmain "$@"\n')]).toEqual([file, true, true]);
    }
  });

  test('the scripts ConfigMap ships every script byte for byte', () => {
    const c = chart();
    new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    const data = find(synth(c), 'ConfigMap', 'tsb-postgres-pitr-scripts').data;
    expect(Object.keys(data).sort()).toEqual([...files, 'pitr-version'].sort());
    expect(data['pitr-version']).toBe(JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version);
    for (const file of files) {
      expect(data[file]).toBe(fs.readFileSync(path.join(SCRIPTS_DIR, file), 'utf8'));
    }
  });
});
