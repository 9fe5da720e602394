/**
 * Internal: synth-time warnings. cdk8s has no warning channel of its own, so a warning is recorded as construct
 * metadata (type `cdk8s-postgres-pitr:warning`, readable in tests and tools) and printed to stderr during synth.
 */
import { Construct } from 'constructs';

/** Metadata type of the library's warnings. */
export const WARNING_METADATA = 'cdk8s-postgres-pitr:warning';

/** Records and prints a warning on a construct. */
export function warn(construct: Construct, message: string): void {
  construct.node.addMetadata(WARNING_METADATA, message);
  if (!process.env.CDK8S_POSTGRES_PITR_QUIET) {
    process.stderr.write(`[cdk8s-postgres-pitr] WARNING ${construct.node.path}: ${message}\n`);
  }
}

/** All warnings recorded under a construct, in tree order. */
export function warningsOf(root: Construct): string[] {
  return root.node.findAll().flatMap(c => c.node.metadata.filter(m => m.type === WARNING_METADATA).map(m => String(m.data)));
}
