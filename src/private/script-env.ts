/**
 * Internal: the environment contract of each shipped script, written once. The constructs build a script's container
 * environment as `ScriptEnv<...>`, the drill types the overrides it maps to local folders with the same type, and a
 * test checks each list against the `# Environment:` block of the script's header.
 */

/** The variables each script reads, as its header documents them. */
export const SCRIPT_ENVIRONMENT = {
  'archive-wal.sh': ['WAL_ARCHIVE_DIR', 'WAL_ARCHIVE_COMPRESSION'],
  'restore-wal.sh': ['WAL_ARCHIVE_DIR'],
  'base-backup.sh': ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'BACKUP_DIR', 'BACKUP_NAME_PREFIX', 'BACKUP_RETENTION_SECONDS',
    'BACKUP_CHECKPOINT', 'WAL_ARCHIVE_DIR', 'WAL_ARCHIVE_CLEANUP', 'BACKUP_COMPRESSION', 'BACKUP_COMPRESSION_LEVEL', 'BACKUP_COMPRESSION_WORKERS'],
  'restore-data.sh': ['PGDATA', 'BACKUP_DIR', 'WAL_ARCHIVE_DIR', 'BACKUP_NAME_PREFIX', 'RESTORE_BACKUP', 'RECOVERY_SETTINGS_FILE',
    'RECOVERY_SIGNAL_FILE', 'RECOVERY_TARGET_TYPE', 'RECOVERY_TARGET_EPOCH', 'RECOVERY_TARGET_LSN', 'RECOVERY_TARGET_TIMELINE',
    'RESTORE_TARGET_DIR', 'RESTORE_TARGET_CONFIGMAP', 'RESTORE_OLD_DATA', 'RESTORE_ALLOW_TRUNCATED_HISTORY', 'RESTORE_TIMESTAMP',
    'PRIMARY_HOST', 'PRIMARY_PORT'],
  'recovery-window.sh': ['BACKUP_DIR', 'WAL_ARCHIVE_DIR', 'BACKUP_NAME_PREFIX', 'REPORT_FORMAT'],
  'create-restore-point.sh': ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'RESTORE_POINT_NAME', 'RESTORE_POINT_ARCHIVE_WAIT_SECONDS'],
  'restore-drill.sh': ['BACKUP_DIR', 'WAL_ARCHIVE_DIR', 'BACKUP_NAME_PREFIX', 'RESTORE_DRILL_DIR', 'RESTORE_DRILL_SCRATCH_LIMIT_MB',
    'RESTORE_DRILL_PORT', 'RESTORE_DRILL_TIMEOUT_SECONDS', 'RESTORE_DRILL_AMCHECK', 'RESTORE_DRILL_CHECK_TIMEOUT_SECONDS', 'RESTORE_DRILL_CHECKS',
    'RESTORE_DRILL_KEEP', 'PGUSER'],
  'pitr-catalog.sh': ['BACKUP_DIR', 'BACKUP_NAME_PREFIX', 'WAL_ARCHIVE_DIR', 'WAL_SEGMENT_SIZE', 'WAL_EXTRA_DIR'],
} as const;

/** A shipped script that reads an environment. */
export type ScriptName = keyof typeof SCRIPT_ENVIRONMENT;

/** The environment of one script: only the variables it reads, as strings. */
export type ScriptEnv<S extends ScriptName> = { [K in typeof SCRIPT_ENVIRONMENT[S][number]]?: string };

/** The variables that must never be literal values: they come from a Secret through `secretKeyRef`. */
export const SECRET_VARIABLES = ['PGPASSWORD'];

/** Drops the unset entries, so a container gets only what is set. */
export function scriptEnv<S extends ScriptName>(_script: S, env: ScriptEnv<S>): { [name: string]: string } {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as { [name: string]: string };
}
