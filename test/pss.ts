/**
 * A checker of pod specs against the restricted Pod Security Standard (Kubernetes 1.28, policy version `latest`) and the
 * library's own pod defaults (uid/gid, read-only root filesystem with a scratch emptyDir, resources).
 *
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */
import { podSpecsOf } from './k8s-schema';

/** What the library adds to the standard. */
export interface PodDefaults {
  /** uid and gid every container must run as; undefined to skip. Default 999 (the Debian images' postgres). */
  readonly uid?: number;
  /** Require `readOnlyRootFilesystem: true` and a writable emptyDir at `/tmp`. Default true. */
  readonly readOnlyRoot?: boolean;
  /** Require cpu and memory requests and limits on every container. Default true. */
  readonly resources?: boolean;
}

/** Volume types the restricted profile allows. */
export const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/** sysctls the baseline profile allows. */
const SAFE_SYSCTLS = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];

/**
 * The violations of one pod spec (empty when it passes). `at` prefixes each message.
 */
export function podSpecViolations(spec: any, at = 'spec', defaults: PodDefaults = {}): string[] {
  const uid = 'uid' in defaults ? defaults.uid : 999;
  const readOnlyRoot = defaults.readOnlyRoot ?? true;
  const resources = defaults.resources ?? true;
  const v: string[] = [];
  if (!spec || typeof spec !== 'object') {
    return [`${at}: no pod spec`];
  }
  const psc = spec.securityContext ?? {};

  // Baseline.
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec[host] === true) {
      v.push(`${at}.${host} must not be true`);
    }
  }
  if (psc.windowsOptions?.hostProcess === true) {
    v.push(`${at}.securityContext.windowsOptions.hostProcess must not be true`);
  }
  for (const sysctl of psc.sysctls ?? []) {
    if (!SAFE_SYSCTLS.includes(sysctl.name)) {
      v.push(`${at}.securityContext.sysctls: ${sysctl.name} is not a safe sysctl`);
    }
  }
  checkSeLinux(psc.seLinuxOptions, `${at}.securityContext`, v);
  // Restricted: volumes.
  for (const volume of spec.volumes ?? []) {
    const types = Object.keys(volume).filter(k => k !== 'name');
    for (const type of types) {
      if (!RESTRICTED_VOLUME_TYPES.includes(type)) {
        v.push(`${at}.volumes.${volume.name}: volume type ${type} is not allowed (restricted allows ${RESTRICTED_VOLUME_TYPES.join(', ')})`);
      }
    }
  }
  // Restricted: pod-level non-root and seccomp; containers may set them instead.
  if (psc.runAsNonRoot === false) {
    v.push(`${at}.securityContext.runAsNonRoot must not be false`);
  }
  if (psc.runAsUser === 0) {
    v.push(`${at}.securityContext.runAsUser must not be 0`);
  }
  const podSeccomp = psc.seccompProfile?.type;
  if (podSeccomp !== undefined && podSeccomp !== 'RuntimeDefault' && podSeccomp !== 'Localhost') {
    v.push(`${at}.securityContext.seccompProfile.type must be RuntimeDefault or Localhost, got ${podSeccomp}`);
  }
  if (uid !== undefined) {
    for (const key of ['runAsUser', 'runAsGroup', 'fsGroup']) {
      if (psc[key] !== uid) {
        v.push(`${at}.securityContext.${key} must be ${uid}, got ${psc[key]}`);
      }
    }
  }

  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
  if (containers.length === 0) {
    v.push(`${at}: no containers`);
  }
  for (const container of containers) {
    const c = `${at}.containers.${container.name}`;
    const sc = container.securityContext ?? {};
    if (sc.privileged === true) {
      v.push(`${c}.securityContext.privileged must not be true`);
    }
    if (sc.allowPrivilegeEscalation !== false) {
      v.push(`${c}.securityContext.allowPrivilegeEscalation must be false, got ${sc.allowPrivilegeEscalation}`);
    }
    if (sc.procMount !== undefined && sc.procMount !== 'Default') {
      v.push(`${c}.securityContext.procMount must be Default`);
    }
    if (sc.windowsOptions?.hostProcess === true) {
      v.push(`${c}.securityContext.windowsOptions.hostProcess must not be true`);
    }
    checkSeLinux(sc.seLinuxOptions, `${c}.securityContext`, v);
    for (const port of container.ports ?? []) {
      if (port.hostPort !== undefined && port.hostPort !== 0) {
        v.push(`${c}.ports: hostPort ${port.hostPort} is not allowed`);
      }
    }
    const drop: string[] = sc.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) {
      v.push(`${c}.securityContext.capabilities.drop must include ALL, got ${JSON.stringify(drop)}`);
    }
    for (const add of sc.capabilities?.add ?? []) {
      if (add !== 'NET_BIND_SERVICE') {
        v.push(`${c}.securityContext.capabilities.add may only hold NET_BIND_SERVICE, got ${add}`);
      }
    }
    const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (nonRoot !== true) {
      v.push(`${c}: runAsNonRoot must be true (on the container or the pod), got ${nonRoot}`);
    }
    if (sc.runAsUser === 0) {
      v.push(`${c}.securityContext.runAsUser must not be 0`);
    }
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      v.push(`${c}: seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod), got ${seccomp}`);
    }
    // The library's defaults.
    if (uid !== undefined) {
      for (const key of ['runAsUser', 'runAsGroup']) {
        const value = sc[key] ?? psc[key];
        if (value !== uid) {
          v.push(`${c}: ${key} must be ${uid}, got ${value}`);
        }
      }
    }
    if (readOnlyRoot) {
      if (sc.readOnlyRootFilesystem !== true) {
        v.push(`${c}.securityContext.readOnlyRootFilesystem must be true`);
      }
      const tmp = (container.volumeMounts ?? []).find((m: any) => m.mountPath === '/tmp');
      const volume = tmp && (spec.volumes ?? []).find((vol: any) => vol.name === tmp.name);
      if (!volume?.emptyDir || tmp.readOnly === true) {
        v.push(`${c}: /tmp must be a writable emptyDir mount`);
      }
    }
    if (resources) {
      for (const kind of ['requests', 'limits']) {
        for (const resource of ['cpu', 'memory']) {
          if (container.resources?.[kind]?.[resource] === undefined) {
            v.push(`${c}.resources.${kind}.${resource} is missing`);
          }
        }
      }
    }
  }
  return v;
}

function checkSeLinux(options: any, at: string, v: string[]): void {
  if (!options) {
    return;
  }
  if (options.type !== undefined && !['', 'container_t', 'container_init_t', 'container_kvm_t'].includes(options.type)) {
    v.push(`${at}.seLinuxOptions.type ${options.type} is not allowed`);
  }
  if (options.user || options.role) {
    v.push(`${at}.seLinuxOptions.user and role must not be set`);
  }
}

/** The violations of every pod spec in a list of objects (Pods, CronJobs, Jobs and workloads), each with the object's name. */
export function restrictedViolations(objects: any[], defaults: PodDefaults = {}): string[] {
  return objects.flatMap(o => podSpecsOf(o).flatMap(({ spec, at }) =>
    podSpecViolations(spec, at, defaults).map(e => `${o.kind}/${o.metadata?.name}: ${e}`)));
}

/** How many pod specs a list of objects holds. */
export function podSpecCount(objects: any[]): number {
  return objects.reduce((n, o) => n + podSpecsOf(o).length, 0);
}
