/**
 * Internal: cron arithmetic for synth-time warnings.
 */
import { CRON_MACROS, everySeconds } from './validate';

const DAY = 86400;

/**
 * The shortest interval between two runs of a simple schedule (every n minutes or hours, daily, weekly, monthly, yearly,
 * the macros and `@every`), in seconds; undefined when the schedule is irregular. A monthly schedule counts 28 days and
 * a yearly one 365: a retention shorter than that keeps at most one backup, whatever the month.
 */
export function cronIntervalSeconds(expression: string): number | undefined {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) {
    return everySeconds(trimmed) ?? (CRON_MACROS[trimmed] === undefined ? undefined : cronIntervalSeconds(CRON_MACROS[trimmed]));
  }
  const [minute, hour, day, month, weekDay] = trimmed.split(/\s+/);
  const fixed = (f: string) => /^\d+$/.test(f);
  const step = (f: string) => /^\*\/(\d+)$/.exec(f)?.[1];
  const any = (f: string) => f === '*' || f === '?';
  if (fixed(minute) && fixed(hour) && fixed(day) && any(weekDay)) {
    return fixed(month) ? 365 * DAY : any(month) ? 28 * DAY : undefined;
  }
  if (month !== '*' || !any(day)) {
    return undefined;
  }
  if (fixed(minute) && fixed(hour)) {
    return any(weekDay) ? DAY : fixed(weekDay) ? 7 * DAY : undefined;
  }
  if (!any(weekDay)) {
    return undefined;
  }
  if (fixed(minute) && hour === '*') {
    return 3600;
  }
  if (fixed(minute) && step(hour)) {
    return Number(step(hour)) * 3600;
  }
  if (minute === '*' && hour === '*') {
    return 60;
  }
  if (step(minute) && hour === '*') {
    return Number(step(minute)) * 60;
  }
  return undefined;
}
