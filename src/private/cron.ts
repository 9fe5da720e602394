/**
 * Internal: cron arithmetic for synth-time warnings.
 */

/** The interval of simple schedules (every n minutes, hourly, daily, weekly), in seconds; undefined when irregular. */
export function cronIntervalSeconds(expression: string): number | undefined {
  const [minute, hour, day, month, weekDay] = expression.trim().split(/\s+/);
  const fixed = (f: string) => /^\d+$/.test(f);
  const step = (f: string) => /^\*\/(\d+)$/.exec(f)?.[1];
  const any = (f: string) => f === '*' || f === '?';
  if (month !== '*' || !any(day)) {
    return undefined;
  }
  if (fixed(minute) && fixed(hour)) {
    return any(weekDay) ? 86400 : fixed(weekDay) ? 7 * 86400 : undefined;
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
