export * from './pitr-scripts';
export * from './wal-archive';
export * from './base-backup-cron-job';
export * from './recovery-target';
export * from './recovery-config';
export * from './restore-helper-pod';
export * from './embedded-postgres-pitr';
export * from './kubegres-postgres';
