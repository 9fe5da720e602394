import { ApiObject, ApiObjectMetadata, GroupVersionKind } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkConstruct } from './private/api';

/**
 * The `Kubegres` custom resource (`kubegres.reactive-tech.io/v1`, Kubegres v1.19), typed for the fields this library
 * writes. Its shape follows what `cdk8s import` generates from the operator's CRD: a class with the group, version and
 * kind, and `KubegresProps` whose spec uses the Kubernetes core types.
 */
export class Kubegres extends ApiObject {
  /** The group, version and kind of the resource. */
  public static readonly GVK: GroupVersionKind = {
    apiVersion: 'kubegres.reactive-tech.io/v1',
    kind: 'Kubegres',
  };

  /** The typed spec. */
  public readonly spec: KubegresSpec;

  constructor(scope: Construct, id: string, props: KubegresProps) {
    super(checkConstruct(scope, id, 'KubegresProps', props), id, { ...Kubegres.GVK, metadata: props.metadata, spec: specToJson(props.spec) });
    this.spec = props.spec;
  }
}

/** Props of `Kubegres`. */
export interface KubegresProps {
  /** Metadata of the resource. */
  readonly metadata?: ApiObjectMetadata;
  /** The spec. */
  readonly spec: KubegresSpec;
}

/** `spec` of a Kubegres resource. */
export interface KubegresSpec {
  /** Instances: one primary and `replicas - 1` replicas. Kubegres refuses 0. */
  readonly replicas: number;
  /** The PostgreSQL image. */
  readonly image: string;
  /**
   * Port of the instances and Services.
   * @default 5432
   */
  readonly port?: number;
  /** Each instance's data volume. */
  readonly database: KubegresSpecDatabase;
  /**
   * A ConfigMap whose keys (`postgres.conf`, `pg_hba.conf`, `primary_init_script.sh`, `backup_database.sh`) replace
   * the base config's; Kubegres mounts each by subPath.
   * @default - `base-kubegres-config` only
   */
  readonly customConfig?: string;
  /**
   * Environment of every instance (`POSTGRES_PASSWORD` and `POSTGRES_REPLICATION_PASSWORD` are required).
   */
  readonly env: kplus.k8s.EnvVar[];
  /**
   * Volumes and mounts added to every instance, replicas too.
   * @default - none
   */
  readonly volume?: KubegresSpecVolume;
  /**
   * Pod security context of every instance.
   * @default - none
   */
  readonly securityContext?: kplus.k8s.PodSecurityContext;
  /**
   * Security context of every instance's postgres container and of a replica's init container.
   * @default - none
   */
  readonly containerSecurityContext?: kplus.k8s.SecurityContext;
  /**
   * Resources of every instance's container.
   * @default - none (BestEffort)
   */
  readonly resources?: kplus.k8s.ResourceRequirements;
  /**
   * Failover settings.
   * @default - failover enabled
   */
  readonly failover?: KubegresSpecFailover;
}

/** `spec.database` of a Kubegres resource. */
export interface KubegresSpecDatabase {
  /** Size of each instance's data volume, such as `10Gi`. */
  readonly size: string;
  /**
   * Storage class of the data volumes.
   * @default - the cluster's default storage class
   */
  readonly storageClassName?: string;
  /**
   * Where the data volume is mounted; PGDATA is `{volumeMount}/pgdata`.
   * @default '/var/lib/postgresql/data'
   */
  readonly volumeMount?: string;
}

/** `spec.volume` of a Kubegres resource. */
export interface KubegresSpecVolume {
  /**
   * Volumes added to every instance.
   * @default - none
   */
  readonly volumes?: kplus.k8s.Volume[];
  /**
   * Mounts added to every instance's container.
   * @default - none
   */
  readonly volumeMounts?: kplus.k8s.VolumeMount[];
}

/** `spec.failover` of a Kubegres resource. */
export interface KubegresSpecFailover {
  /**
   * Whether Kubegres leaves a failed primary alone instead of promoting a replica.
   * @default false
   */
  readonly isDisabled?: boolean;
}

/** The spec as JSON: the Kubernetes core types through their generated converters, undefined fields dropped. */
function specToJson(spec: KubegresSpec): any {
  const k8s = kplus.k8s;
  return prune({
    replicas: spec.replicas,
    image: spec.image,
    port: spec.port,
    database: spec.database,
    customConfig: spec.customConfig,
    env: spec.env.map(e => k8s.toJson_EnvVar(e)),
    volume: spec.volume && {
      volumes: spec.volume.volumes?.map(v => k8s.toJson_Volume(v)),
      volumeMounts: spec.volume.volumeMounts?.map(m => k8s.toJson_VolumeMount(m)),
    },
    securityContext: k8s.toJson_PodSecurityContext(spec.securityContext),
    containerSecurityContext: k8s.toJson_SecurityContext(spec.containerSecurityContext),
    resources: k8s.toJson_ResourceRequirements(spec.resources),
    failover: spec.failover,
  });
}

/** Drops undefined fields and empty objects. */
function prune(obj: any): any {
  if (Array.isArray(obj)) {
    return obj.map(prune);
  }
  if (obj === null || typeof obj !== 'object') {
    return obj;
  }
  const entries = Object.entries(obj).map(([k, v]) => [k, prune(v)] as const)
    .filter(([, v]) => v !== undefined && !(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0));
  return Object.fromEntries(entries);
}
