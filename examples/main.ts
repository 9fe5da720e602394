// Synthesizes the PITR manifests of the reference ManagementPlane: `cdk8s synth` in this folder (or
// `npx projen synth:example` at the top) writes dist/*.k8s.yaml.
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, ChartProps, YamlOutputType } from 'cdk8s';
import { Construct } from 'constructs';
import * as yaml from 'yaml';
import { EmbeddedPostgresPitr, InstallPreset, RecoveryTarget, RestoreMode, RestoreOptions } from '../src';

/** The reference design's ManagementPlane, parsed from managementplane.yaml. */
export const managementPlane = yaml.parse(fs.readFileSync(path.join(__dirname, 'managementplane.yaml'), 'utf8'));

/**
 * The always-on objects, applied once and kept applied: the Kubegres database with archiving enabled, the WAL archive,
 * the base backups and the scripts.
 */
export class PitrChart extends Chart {
  public readonly pitr: EmbeddedPostgresPitr;

  constructor(scope: Construct, id: string, props: ChartProps) {
    super(scope, id, props);
    this.pitr = EmbeddedPostgresPitr.fromManagementPlane(this, 'pitr', managementPlane, { kubegres: {}, preset: InstallPreset.TSB });
  }
}

/**
 * A restore to a point in time: the recovery ConfigMap and the automatic restore helper. Applied only when restoring,
 * after the database is scaled down (see README, "Restore walkthrough").
 */
export class RestoreChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps & { pitr: EmbeddedPostgresPitr; target?: RecoveryTarget; restore?: RestoreOptions }) {
    super(scope, id, props);
    props.pitr.addRestore(props.target ?? RecoveryTarget.time('2024-12-04T14:35:00Z'), { mode: RestoreMode.AUTOMATIC, ...props.restore }, this);
  }
}

/** The recoverable-window report: a one-shot Job, applied when you need to know what can be restored. */
export class WindowChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps & { pitr: EmbeddedPostgresPitr }) {
    super(scope, id, props);
    props.pitr.addRecoveryWindowReport(this);
  }
}

/** A named restore point before a risky change: a one-shot Job. */
export class RestorePointChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps & { pitr: EmbeddedPostgresPitr }) {
    super(scope, id, props);
    props.pitr.addRestorePoint('before-upgrade', this);
  }
}

/** The example app: one file per chart in `outdir`. */
export function buildApp(outdir?: string, target?: RecoveryTarget, restore?: RestoreOptions): App {
  const app = new App({ yamlOutputType: YamlOutputType.FILE_PER_CHART, outdir });
  const namespace: string = managementPlane.metadata.namespace;
  const { pitr } = new PitrChart(app, 'pitr', { namespace, disableResourceNameHashes: true });
  new RestoreChart(app, 'restore', { namespace, disableResourceNameHashes: true, pitr, target, restore });
  new WindowChart(app, 'window', { namespace, disableResourceNameHashes: true, pitr });
  new RestorePointChart(app, 'restore-point', { namespace, disableResourceNameHashes: true, pitr });
  return app;
}

if (require.main === module) {
  const app = buildApp();
  app.synth();
  // The runbook of this deployment, beside its manifests.
  const pitr = (app.charts.find(c => c instanceof PitrChart) as PitrChart).pitr;
  fs.writeFileSync(path.join(app.outdir, 'RUNBOOK.md'), pitr.runbook({ namespace: managementPlane.metadata.namespace }));
}
