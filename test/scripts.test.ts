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

  test('the scripts ConfigMap ships every script byte for byte', () => {
    const c = chart();
    new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    const data = find(synth(c), 'ConfigMap', 'tsb-postgres-pitr-scripts').data;
    expect(Object.keys(data).sort()).toEqual(files);
    for (const file of files) {
      expect(data[file]).toBe(fs.readFileSync(path.join(SCRIPTS_DIR, file), 'utf8'));
    }
  });
});
