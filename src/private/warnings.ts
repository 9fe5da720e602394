/**
 * Internal: synth-time warnings. cdk8s has no warning channel of its own, so a warning is recorded as construct
 * metadata (type `cdk8s-postgres-pitr:warning`, readable in tests and tools as `EmbeddedPostgresPitr.warnings`) and
 * printed to stderr when the app is synthesized (cdk8s validates every construct first), once per construct: not when
 * the construct is built, so a construct that is never synthesized, or an error later in the app, prints nothing.
 *
 * `CDK8S_POSTGRES_PITR_QUIET` silences them: `1` (or `true`, `all`) every warning, or a comma-separated list of the ids
 * printed in brackets, such as `CDK8S_POSTGRES_PITR_QUIET=retention-below-interval`.
 */
import { Construct } from 'constructs';

/** Metadata type of the library's warnings. */
export const WARNING_METADATA = 'cdk8s-postgres-pitr:warning';

/** The environment variable that silences warnings. */
export const QUIET_VARIABLE = 'CDK8S_POSTGRES_PITR_QUIET';

/** Every warning the library gives, by id (README, "Warnings"). */
export const WARNING_IDS = [
  'archive-read-write-once', 'retention-below-interval', 'kubegres-failover-disabled', 'wal-archive-too-small',
] as const;

/** The id of a warning. */
export type WarningId = typeof WARNING_IDS[number];

const printed = new WeakMap<Construct, Set<string>>();

/** Whether a warning is silenced by `CDK8S_POSTGRES_PITR_QUIET`. */
export function isQuiet(id: WarningId, env: string | undefined = process.env[QUIET_VARIABLE]): boolean {
  const value = (env ?? '').trim().toLowerCase();
  if (value === '' || value === '0' || value === 'false') {
    return false;
  }
  return ['1', 'true', 'all', 'yes'].includes(value) || value.split(/[\s,]+/).includes(id);
}

/** Records a warning on a construct; it is printed when the app is synthesized. */
export function warn(construct: Construct, id: WarningId, message: string): void {
  construct.node.addMetadata(WARNING_METADATA, message);
  construct.node.addValidation({
    validate: () => {
      const done = printed.get(construct) ?? new Set<string>();
      printed.set(construct, done);
      if (!done.has(id) && !isQuiet(id)) {
        done.add(id);
        process.stderr.write(`[cdk8s-postgres-pitr] WARNING (${id}) ${construct.node.path}: ${message} `
          + `(silence it with ${QUIET_VARIABLE}=${id})\n`);
      }
      return [];
    },
  });
}

/** All warnings recorded under a construct, in tree order. */
export function warningsOf(root: Construct): string[] {
  return root.node.findAll().flatMap(c => c.node.metadata.filter(m => m.type === WARNING_METADATA).map(m => String(m.data)));
}
