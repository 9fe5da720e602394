/**
 * The drill's database as Kubegres runs it: the pod spec the Kubegres model (test/kubegres-model.ts) renders from the
 * synthesized Kubegres resource, with every mount mapped to a drill folder. The custom config keys become the files
 * mounted by subPath (`/etc/postgres.conf`, `/etc/pg_hba.conf`), the container's args (`-c config_file=… -c hba_file=…`)
 * start the server, and PGDATA comes from the container's environment: nothing is assembled by hand.
 */
import * as path from 'path';
import { mapPaths, mkdirPg, PathMap, Synthesized, writePg } from './harness';
import { KUBEGRES_CONSTANTS, renderInstance } from '../kubegres-model';

/** How to run one Kubegres instance locally. */
export interface KubegresInstanceRuntime {
  /** The StatefulSet the model rendered. */
  readonly statefulSet: any;
  /** PGDATA, mapped. */
  readonly pgdata: string;
  /** The container's args, mapped (the config and hba files Kubegres mounts). */
  readonly args: string[];
}

/**
 * Renders instance `index` of the synthesized Kubegres resource and maps its mounts: the data volume to `dataRoot`,
 * configMap subPath mounts to files under `etcDir` holding the ConfigMap's key, the WAL archive and the scripts to the
 * drill's folders. Fails when a mount the server reads cannot be mapped.
 */
export function kubegresInstanceRuntime(synth: Synthesized, paths: PathMap, index: number, role: 'primary' | 'replica',
  dataRoot: string, etcDir: string): KubegresInstanceRuntime {
  const kubegres = synth.objects.find(o => o.kind === 'Kubegres');
  const customConfigData: Record<string, string> = synth.get('ConfigMap', kubegres.spec.customConfig).data;
  const statefulSet = renderInstance(kubegres, index, role, { customConfigData });
  const pod = statefulSet.spec.template.spec;
  const container = pod.containers[0];
  mkdirPg(etcDir, 0o755);
  const mapped: Array<[string, string]> = [];
  for (const m of container.volumeMounts as any[]) {
    const volume = (pod.volumes as any[]).find(v => v.name === m.name);
    if (m.name === KUBEGRES_CONSTANTS.dataVolume) {
      mapped.push([m.mountPath, dataRoot]);
    } else if (volume?.configMap?.name === kubegres.spec.customConfig && m.subPath) {
      // The key as Kubegres mounts it, its in-cluster paths mapped as every synthesized text in the drill is.
      const file = path.join(etcDir, m.subPath);
      writePg(file, mapPaths(customConfigData[m.subPath], paths), 0o644);
      mapped.push([m.mountPath, file]);
    } else if (volume?.persistentVolumeClaim?.claimName === 'tsb-postgres-wal-archive') {
      mapped.push([m.mountPath, paths.walArchive]);
    } else if (volume?.configMap?.name === 'tsb-postgres-pitr-scripts' && !m.subPath) {
      mapped.push([m.mountPath, paths.scripts]);
    } else if (!m.mountPath.startsWith('/docker-entrypoint-initdb.d/')) {
      // Base config files other than the initdb scripts (which the drill's initdb stands in for) would be read by the server.
      throw new Error(`the drill cannot map ${m.mountPath} (volume ${m.name}) of ${statefulSet.metadata.name}`);
    }
  }
  const map = (text: string) => mapped.reduce((t, [from, to]) => t.split(from).join(to), text);
  const pgdata = container.env.find((e: any) => e.name === 'PGDATA').value;
  return { statefulSet, pgdata: map(pgdata), args: (container.args as string[]).map(map) };
}
