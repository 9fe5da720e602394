import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { PitrScripts, WalArchive } from '../src';
import { chart, find, inventory, synth } from './util';

function make(props: Partial<ConstructorParameters<typeof WalArchive>[2]> = {}) {
  const c = chart();
  const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
  const archive = new WalArchive(c, 'wal', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(10), ...props });
  return { c, archive, scripts };
}

describe('WalArchive', () => {
  test('defaults: the reference names, size, class, mode and archiving settings', () => {
    const { c, archive } = make();
    const objects = synth(c);
    expect(objects).toMatchSnapshot();
    expect(inventory(objects)).toEqual(['ConfigMap/tsb-postgres-archiving', 'ConfigMap/tsb-postgres-pitr-scripts', 'PersistentVolumeClaim/tsb-postgres-wal-archive']);
    expect(archive.claimName).toBe('tsb-postgres-wal-archive');
    expect(archive.storageClassName).toBe('standard');
    expect(archive.accessMode).toBe(kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE);
    expect(archive.mountPath).toBe('/var/lib/postgresql/wal-archive');
    expect(archive.archiveTimeout.toSeconds()).toBe(60);
    expect(archive.archiveCommand).toBe('/bin/sh /opt/pitr/scripts/archive-wal.sh "%p" "%f"');
    expect(archive.postgresqlConf).toBe([
      '# WAL archiving for point-in-time recovery (cdk8s-postgres-pitr)',
      'wal_level = \'replica\'',
      'archive_mode = \'on\'',
      'archive_command = \'/bin/sh /opt/pitr/scripts/archive-wal.sh "%p" "%f"\'',
      'archive_timeout = \'60s\'',
      '# full-page images compressed in the WAL itself: fewer bytes to write, archive and replay',
      'wal_compression = \'lz4\'',
      '',
    ].join('\n'));
    expect(archive.compressSegments).toBe(true);
    expect(archive.minimumSegmentBytes).toBeLessThan(16 * 1024 * 1024 / 100);
    expect(find(objects, 'ConfigMap', 'tsb-postgres-archiving').data).toEqual({ 'archiving.conf': archive.postgresqlConf });
  });

  test('props override the defaults', () => {
    const { c, archive } = make({
      storage: Size.mebibytes(512),
      storageClassName: 'fast-ssd',
      accessMode: kplus.PersistentVolumeAccessMode.READ_WRITE_MANY,
      claimName: 'archive',
      settingsConfigMapName: 'archiving',
      mountPath: '/archive',
      archiveTimeout: Duration.minutes(5),
    });
    const pvc = find(synth(c), 'PersistentVolumeClaim', 'archive');
    expect(pvc.spec).toMatchObject({ storageClassName: 'fast-ssd', accessModes: ['ReadWriteMany'], resources: { requests: { storage: '0.5Gi' } } });
    // A non-default mount path is passed to the script explicitly.
    expect(archive.archiveCommand).toBe('WAL_ARCHIVE_DIR=/archive /bin/sh /opt/pitr/scripts/archive-wal.sh "%p" "%f"');
    expect(archive.postgresqlConf).toContain('archive_timeout = \'300s\'');
  });

  test('the archive is a kplus IStorage: mounting it and the scripts gives a database container all it needs', () => {
    const { c, archive } = make();
    const pod = new kplus.Pod(c, 'db');
    const container = pod.addContainer({ image: 'postgres:15-bookworm', name: 'postgres' });
    container.mount(archive.mountPath, archive);
    archive.scripts.mount(container);
    const spec = find(synth(c), 'Pod', pod.name).spec;
    expect(spec.containers[0].volumeMounts).toEqual([
      { mountPath: '/var/lib/postgresql/wal-archive', name: 'wal-archive' },
      { mountPath: '/opt/pitr/scripts', name: 'pitr-scripts', readOnly: true },
    ]);
    expect(spec.volumes).toEqual([
      { name: 'wal-archive', persistentVolumeClaim: { claimName: 'tsb-postgres-wal-archive', readOnly: false } },
      { name: 'pitr-scripts', configMap: { name: 'tsb-postgres-pitr-scripts', defaultMode: 0o555 } },
    ]);
  });

  test('throws when the access mode is read-only', () => {
    expect(() => make({ accessMode: kplus.PersistentVolumeAccessMode.READ_ONLY_MANY }))
      .toThrow('\'accessMode\' must allow writes (the volume is written to), got "ReadOnlyMany". Use ReadWriteOnce or ReadWriteMany');
  });

  test('throws when the mount path could reach a shell or postgresql.conf', () => {
    expect(() => make({ mountPath: '/x\'; rm -rf /' })).toThrow(/^'mountPath' must be an absolute path/);
  });

  test('throws when archive_timeout is not a positive whole number of seconds', () => {
    expect(() => make({ archiveTimeout: Duration.seconds(0) })).toThrow('\'archiveTimeout\' must be a whole number of seconds, at least 1, got "0s"');
  });

  test('compressSegments: false stores plain segments (WAL_ARCHIVE_COMPRESSION=none in the archive command)', () => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    const archive = new WalArchive(c, 'wal', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(10), compressSegments: false });
    expect(archive.archiveCommand).toBe('WAL_ARCHIVE_COMPRESSION=none /bin/sh /opt/pitr/scripts/archive-wal.sh "%p" "%f"');
    expect(archive.minimumSegmentBytes).toBe(16 * 1024 * 1024);
    expect(archive.minimumBytesPerDay()).toBe(1440 * 16 * 1024 * 1024);
  });

  test('throws when compressSegments is not a boolean', () => {
    const c = chart();
    const scripts = new PitrScripts(c, 'scripts', { deploymentName: 'tsb' });
    expect(() => new WalArchive(c, 'wal', { deploymentName: 'tsb', scripts, storage: Size.gibibytes(10), compressSegments: 'yes' as any }))
      .toThrow(/'compressSegments' must be true or false, got "yes"/);
  });
});
