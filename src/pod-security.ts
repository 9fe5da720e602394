/**
 * Internal: the restricted security settings every pod of the library uses.
 */
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

/** uid and gid of `postgres` in the official Alpine images (the reference design's restore pod runs as 70). */
export const POSTGRES_UID = 70;

/** The default PostgreSQL image: the Alpine variant, whose `postgres` user is uid/gid 70. */
export const DEFAULT_POSTGRES_IMAGE = 'postgres:15-alpine';

/** Pod-level security context: non-root, uid/gid, fsGroup so the volumes are writable. */
export function podSecurityContext(uid: number): kplus.PodSecurityContextProps {
  return {
    ensureNonRoot: true,
    user: uid,
    group: uid,
    fsGroup: uid,
    fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
  };
}

/** Container-level security context meeting the restricted Pod Security Standard. */
export function containerSecurityContext(uid: number): kplus.ContainerSecurityContextProps {
  return {
    ensureNonRoot: true,
    user: uid,
    group: uid,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: [kplus.Capability.ALL] },
    seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
  };
}

/** Default resources of the backup and restore containers. */
export function defaultResources(): kplus.ContainerResources {
  return {
    cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) },
    memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) },
  };
}

/** Mounts a writable scratch emptyDir at /tmp, since the root filesystem is read-only. */
export function addScratch(pod: kplus.AbstractPod, container: kplus.Container): void {
  const tmp = kplus.Volume.fromEmptyDir(pod, 'Scratch', 'tmp', { sizeLimit: Size.mebibytes(256) });
  container.mount('/tmp', tmp);
}

/** Plain (non-secret) environment variables as kplus values. */
export function literalEnv(env: { [name: string]: string }): { [name: string]: kplus.EnvValue } {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)]));
}
