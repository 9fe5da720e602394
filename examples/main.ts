// Synthesizes the PITR manifests of the reference ManagementPlane: `cdk8s synth` in this folder (or
// `npx projen synth:example` at the top) writes dist/*.k8s.yaml (always applied), dist/on-demand/*.k8s.yaml (the
// restore kit, applied only by the runbook) and dist/RUNBOOK.md.
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, ChartProps, YamlOutputType } from 'cdk8s';
import { Construct } from 'constructs';
import * as yaml from 'yaml';
import { EmbeddedPostgresPitr, InstallPreset, RecoveryTarget, RestoreMode, RestoreOptions } from '../src';

/** The reference design's ManagementPlane, parsed from managementplane.yaml. */
export const managementPlane = yaml.parse(fs.readFileSync(path.join(__dirname, 'managementplane.yaml'), 'utf8'));

/**
 * The always-applied objects, applied once and kept applied (`kubectl apply -f dist/`): the Kubegres database with
 * archiving enabled, the WAL archive, the base backups, the scripts, and the restore point CronJob (suspended: it runs
 * only when you create a Job from it). Nothing here restores anything.
 */
export class PitrChart extends Chart {
  public readonly pitr: EmbeddedPostgresPitr;

  constructor(scope: Construct, id: string, props: ChartProps) {
    super(scope, id, props);
    this.pitr = EmbeddedPostgresPitr.fromManagementPlane(this, 'pitr', managementPlane, { kubegres: {}, preset: InstallPreset.TSB });
    this.pitr.addRestorePoint();
  }
}

/**
 * The restore kit, in its own folder (`dist/on-demand/`), applied only by the runbook while restoring: the recovery
 * ConfigMap and the automatic restore helper. The target is given at restore time with kubectl
 * (`RecoveryTarget.runtime()`), so a restore needs no toolchain; pass a target to bake one in instead.
 */
export class RestoreChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps & { pitr: EmbeddedPostgresPitr; target?: RecoveryTarget; restore?: RestoreOptions }) {
    super(scope, id, props);
    props.pitr.addRestore(props.target ?? RecoveryTarget.runtime(), { mode: RestoreMode.AUTOMATIC, ...props.restore }, this);
  }
}

/** The recoverable-window report: a one-shot Job in the restore kit, applied when you need to know what can be restored. */
export class WindowChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps & { pitr: EmbeddedPostgresPitr }) {
    super(scope, id, props);
    props.pitr.addRecoveryWindowReport(this);
  }
}

/**
 * Alert rules for the Prometheus Operator (a `PrometheusRule`), in their own file: apply it where the operator's CRDs
 * are installed. The restore drill rules watch the drill CronJob of `DrillChart`.
 */
export class AlertsChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps & { pitr: EmbeddedPostgresPitr }) {
    super(scope, id, props);
    props.pitr.addAlertRules({ postgresExporter: true, restoreDrill: true }, this);
  }
}

/**
 * The scheduled restore drill, in its own file: weekly, it restores the newest backup and the archive into scratch
 * space, checks the result and fails its Job when recovery would not work (the alert rules watch it).
 */
export class DrillChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps & { pitr: EmbeddedPostgresPitr }) {
    super(scope, id, props);
    props.pitr.addRestoreDrill({}, this);
  }
}

/** The example's two apps: what is always applied (`dist/`), and the restore kit (`dist/on-demand/`). */
export interface ExampleApps {
  readonly always: App;
  readonly onDemand: App;
  readonly pitr: EmbeddedPostgresPitr;
}

/** Where the restore kit goes, below the always-applied output (`kubectl apply -f dist/` does not descend into it). */
export const ON_DEMAND_DIR = 'on-demand';

/** The example: one file per chart, the restore kit in a sub-folder. */
export function buildApps(outdir?: string, target?: RecoveryTarget, restore?: RestoreOptions): ExampleApps {
  const always = new App({ yamlOutputType: YamlOutputType.FILE_PER_CHART, outdir });
  const onDemand = new App({ yamlOutputType: YamlOutputType.FILE_PER_CHART, outdir: path.join(always.outdir, ON_DEMAND_DIR) });
  const namespace: string = managementPlane.metadata.namespace;
  const { pitr } = new PitrChart(always, 'pitr', { namespace, disableResourceNameHashes: true });
  new AlertsChart(always, 'alerts', { namespace, disableResourceNameHashes: true, pitr });
  new DrillChart(always, 'restore-drill', { namespace, disableResourceNameHashes: true, pitr });
  new RestoreChart(onDemand, 'restore', { namespace, disableResourceNameHashes: true, pitr, target, restore });
  new WindowChart(onDemand, 'window', { namespace, disableResourceNameHashes: true, pitr });
  return { always, onDemand, pitr };
}

if (require.main === module) {
  const { always, onDemand, pitr } = buildApps();
  always.synth();
  onDemand.synth();
  // The runbook of this deployment, beside its manifests.
  fs.writeFileSync(path.join(always.outdir, 'RUNBOOK.md'), pitr.runbook({
    namespace: managementPlane.metadata.namespace,
    restoreManifest: `${ON_DEMAND_DIR}/restore.k8s.yaml`,
    windowManifest: `${ON_DEMAND_DIR}/window.k8s.yaml`,
  }));
}
