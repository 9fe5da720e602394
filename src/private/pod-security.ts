/**
 * Internal: the pod defaults every pod of the library uses: the restricted security settings, resources, a scratch
 * `/tmp`, and the one container running the PostgreSQL image as its `postgres` user.
 */
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { PostgresImage } from '../postgres-image';

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

/** Plain (non-secret) environment variables as kplus values. */
export function literalEnv(env: { [name: string]: string }): { [name: string]: kplus.EnvValue } {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)]));
}

/** What the one container of a library pod runs. */
export interface PostgresContainerOptions {
  readonly name: string;
  readonly command: string[];
  readonly env: { [name: string]: string };
  readonly secretEnv?: { [name: string]: kplus.EnvValue };
  readonly resources?: kplus.ContainerResources;
}

/**
 * Adds the container of a library pod: the PostgreSQL image as its `postgres` user under the restricted settings, its
 * literal environment (secrets only as `secretKeyRef`), and a writable scratch emptyDir at /tmp since the root
 * filesystem is read-only.
 */
export function addPostgresContainer(pod: kplus.AbstractPod, image: PostgresImage, options: PostgresContainerOptions): kplus.Container {
  const container = pod.addContainer({
    name: options.name,
    image: image.reference,
    imagePullPolicy: image.pullPolicy,
    command: options.command,
    securityContext: containerSecurityContext(image.uid),
    resources: options.resources ?? defaultResources(),
    envVariables: { ...literalEnv(options.env), ...options.secretEnv },
  });
  container.mount('/tmp', kplus.Volume.fromEmptyDir(pod, 'Scratch', 'tmp', { sizeLimit: Size.mebibytes(256) }));
  return container;
}
