/**
 * Failover drill against a real PostgreSQL 15: a standby built as Kubegres builds its replicas (`pg_basebackup -R` as
 * the `replication` role, from the primary), the primary crashing with its last segment unarchived, the standby
 * promoted as Kubegres' promotion hook does (`pg_ctl promote`) onto timeline 2 and archiving into the same archive;
 * then a restore to a time before the failover and one to latest across it, with the exact rows.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DrillCluster } from './cluster';
import { DRILL_SECRET, PG_BIN, PgServer, runOk, sleep, waitFor } from './harness';
import { RecoveryTarget } from '../../src';

let cluster: DrillCluster;
let standby: PgServer;
const servers: PgServer[] = [];
const at: { beforeC: string } = {} as any;
/** What each running instance reports of its configuration files: index -> [config_file, hba_file, archive_command]. */
const shown = new Map<number, string[]>();
const show = (s: PgServer) => ['config_file', 'hba_file', 'archive_command'].map(g => s.sql(`SHOW ${g}`));
const now = (s: PgServer) => s.sql('SELECT to_char(clock_timestamp() AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')');
const seen = (s: PgServer, tag: string) => s.sql(`SELECT count(*) FROM markers WHERE tag = '${tag}'`) === '1' ? true : undefined;

beforeAll(async () => {
  cluster = await DrillCluster.create('failover');
  const primary = cluster.primary;
  cluster.mark('A');
  const b = cluster.backup();
  if (b.status !== 0) {
    throw new Error(`backup failed: ${b.stdout}${b.stderr}`);
  }
  // Instance 2, a replica: Kubegres' init container fills its data directory with pg_basebackup -R from the primary as
  // `replication`, then the container starts with the model's pod spec.
  standby = await cluster.instance(2);
  runOk(path.join(PG_BIN, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'replication', '-D', standby.dataDir, '-R',
    '-X', 'stream', '--checkpoint=fast'], { PGPASSWORD: DRILL_SECRET['embedded-postgres-replication-password'] });
  standby.start();
  servers.push(standby);
  shown.set(1, show(primary));
  shown.set(2, show(standby));
  cluster.mark('B');
  await waitFor('B on the standby', () => seen(standby, 'B'));
  await sleep(1100);
  at.beforeC = now(primary);
  await sleep(1100);
  cluster.mark('C');
  await waitFor('C on the standby', () => seen(standby, 'C'));
  // The primary's node dies: C's segment is only in pg_wal (and streamed to the standby), never archived by it.
  primary.stop('immediate');
  runOk(path.join(PG_BIN, 'pg_ctl'), ['-D', standby.dataDir, '-w', 'promote'], standby.env);
  await standby.waitPromoted();
  standby.sql('INSERT INTO markers(tag) VALUES (\'D\')');
  const segment = standby.sql('SELECT pg_walfile_name(pg_switch_wal())');
  await waitFor(`archiving of ${segment}`, () => cluster.isArchived(segment) ? true : undefined);
});

afterAll(() => {
  cluster?.destroy(servers);
});

describe('failover drill', () => {
  test('both instances run as Kubegres runs them: its config and hba files by subPath, -c config_file and -c hba_file', () => {
    for (const index of [1, 2]) {
      const [configFile, hbaFile, archiveCommand] = shown.get(index)!;
      expect(configFile).toBe(path.join(cluster.root, `etc-${index}`, 'postgres.conf'));
      expect(hbaFile).toBe(path.join(cluster.root, `etc-${index}`, 'pg_hba.conf'));
      expect(archiveCommand).toBe(`/bin/sh ${cluster.paths.scripts}/archive-wal.sh "%p" "%f"`);
    }
  });

  test('the promoted standby writes timeline 2 and archives its history into the same archive', () => {
    expect(standby.timeline()).toBe(2);
    expect(fs.existsSync(path.join(cluster.paths.walArchive, '00000002.history'))).toBe(true);
  });

  test('a restore to a time before the failover gives the rows of then: A, B', async () => {
    const r = await cluster.restoreAndRead(RecoveryTarget.time(at.beforeC), {}, servers);
    expect(r.markers).toBe('A,B');
    expect(r.timeline).toBe(3);
  });

  test('a restore to latest follows timeline 2 across the failover: A, B, C (streamed to the standby, never archived by the old primary), D', async () => {
    const r = await cluster.restoreAndRead(RecoveryTarget.latest(), {}, servers);
    expect(r.markers).toBe('A,B,C,D');
    expect(r.timeline).toBe(3);
  });
});
