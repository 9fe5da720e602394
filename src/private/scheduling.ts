/**
 * Internal: scheduling next to the primary, for workloads that mount a ReadWriteOnce WAL archive.
 */
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkLabel } from './validate';
import { WalArchive } from '../wal-archive';

/**
 * A ReadWriteOnce volume attaches to one node: a workload that mounts the WAL archive beside the primary must run on
 * the primary's node. ReadWriteOncePod cannot be shared at all. `required` makes it a hard pod affinity (the workload
 * needs the running primary anyway, like the backup); otherwise it is preferred (weight 100), so the workload still
 * schedules while the database is down.
 */
export function colocateWithArchive(scope: Construct, workload: kplus.AbstractPod & { scheduling: kplus.PodScheduling } | kplus.Workload,
  walArchive: WalArchive, labels: { [key: string]: string }, what: string, required = true): void {
  if (walArchive.accessMode === kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE_POD) {
    throw new Error(`'walArchive' has access mode ReadWriteOncePod, which only the database pod can mount, so ${what} cannot mount it. `
      + 'Use ReadWriteOnce or ReadWriteMany');
  }
  if (walArchive.accessMode === kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE) {
    for (const [k, v] of Object.entries(labels)) {
      checkLabel(`primaryPodLabels['${k}']`, v);
    }
    workload.scheduling.colocate(kplus.Pods.select(scope, 'Primary', { labels }), { topology: kplus.Topology.HOSTNAME, ...(required ? {} : { weight: 100 }) });
  }
}
