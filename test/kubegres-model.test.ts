/**
 * What the real Kubegres operator (the model in kubegres-model.ts, pinned to v1.19) does with our Kubegres resource:
 * it accepts the spec, renders every instance with the custom config mounted by subPath and the archive in
 * spec.volume, and its promotion can run in the image and user we choose.
 */
import { Synthesized } from './drill/harness';
import { canPromote, KUBEGRES_PROMOTION, KUBEGRES_VERSION, kubegresSpecErrors, POSTGRES_ARGS, renderInstance } from './kubegres-model';

const synth = Synthesized.example();
const kubegres = synth.get('Kubegres', 'tsb-postgres');
const customConfigData = synth.get('ConfigMap', 'tsb-postgres').data;

describe(`the example under the Kubegres model (${KUBEGRES_VERSION})`, () => {
  test('Kubegres accepts the spec', () => {
    expect(kubegresSpecErrors(kubegres, { customConfigData })).toEqual([]);
  });

  test.each([[1, 'primary'], [2, 'replica'], [7, 'replica']] as const)('instance %i (%s) runs our postgres.conf and pg_hba.conf, the archive and the scripts', (index, role) => {
    const sts = renderInstance(kubegres, index, role, { customConfigData });
    expect(sts.metadata.name).toBe(`tsb-postgres-${index}`);
    const pod = sts.spec.template.spec;
    const container = pod.containers[0];
    expect(container.args).toEqual(POSTGRES_ARGS);
    expect(container.image).toBe('postgres:15-bookworm');
    expect(container.env.find((e: any) => e.name === 'PGDATA').value).toBe('/var/lib/postgresql/data/pgdata');
    const mount = (p: string) => container.volumeMounts.find((m: any) => m.mountPath === p);
    expect(mount('/etc/postgres.conf')).toMatchObject({ name: 'custom-config', subPath: 'postgres.conf' });
    expect(mount('/etc/pg_hba.conf')).toMatchObject({ name: 'custom-config', subPath: 'pg_hba.conf' });
    expect(mount('/var/lib/postgresql/wal-archive')).toMatchObject({ name: 'wal-archive' });
    expect(mount('/opt/pitr/scripts')).toMatchObject({ name: 'pitr-scripts', readOnly: true });
    expect(pod.volumes.find((v: any) => v.name === 'wal-archive').persistentVolumeClaim.claimName).toBe('tsb-postgres-wal-archive');
    expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2', memory: '2048Mi' } });
  });

  test('the promotion Kubegres runs fits the image and the user: Debian layout, root entrypoint, SETUID/SETGID kept', () => {
    expect(KUBEGRES_PROMOTION.promote).toContain('/usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl promote');
    expect(canPromote(kubegres.spec.image, kubegres.spec.securityContext, kubegres.spec.containerSecurityContext))
      .toEqual({ ok: true, why: expect.stringMatching(/official Debian image as root/) });
    // What the library shipped before: the Alpine image forced to uid 70.
    expect(canPromote('postgres:15-alpine', { runAsNonRoot: true, runAsUser: 70 }).ok).toBe(false);
    // And a deliberate mistake: dropping every capability.
    expect(canPromote(kubegres.spec.image, kubegres.spec.securityContext, { capabilities: { drop: ['ALL'] } }).ok).toBe(false);
  });
});
