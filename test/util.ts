import { Chart, Testing } from 'cdk8s';
import { EmbeddedPostgresPitrProps } from '../src';

/** A chart in namespace `tsb`, as the reference deploys. */
export function chart(): Chart {
  const app = Testing.app();
  return new Chart(app, 'test', { namespace: 'tsb', disableResourceNameHashes: true });
}

/** The synthesized objects of a chart. */
export function synth(c: Chart): any[] {
  return Testing.synth(c);
}

/** The one object of a kind and name; fails the test when there is not exactly one. */
export function find(objects: any[], kind: string, name: string): any {
  const found = objects.filter(o => o.kind === kind && o.metadata?.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} ${name}, found ${found.length} among ${objects.map(o => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  }
  return found[0];
}

/** kind/name of every object, sorted. */
export function inventory(objects: any[]): string[] {
  return objects.map(o => `${o.kind}/${o.metadata.name}`).sort();
}

/** The environment of a container as a plain map (values, or `secret:<name>/<key>`). */
export function envOf(container: any): Record<string, string> {
  return Object.fromEntries((container.env ?? []).map((e: any) => [e.name,
    e.value ?? (e.valueFrom.fieldRef ? `field:${e.valueFrom.fieldRef.fieldPath}` : `secret:${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`)]));
}

/** The reference design's ManagementPlane parameters (spec.dataStore.embeddedPostgres), every field spelled out. */
export const REFERENCE: EmbeddedPostgresPitrProps = {
  name: 'tsb',
  replicas: 3,
  walArchiveStorageSize: '10Gi',
  walArchiveStorageClassName: 'standard',
  walArchiveStorageAccessMode: 'ReadWriteOnce',
  backupStorageSize: '50Gi',
  backupStorageClassName: 'standard',
  backupStorageAccessMode: 'ReadWriteOnce',
  backupCronSchedule: '0 2 * * *',
  backupCleanupRetention: '432000s',
};
