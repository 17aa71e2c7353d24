const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/**
 * Whether officials are at work at `at`, for a spec like "Mon-Fri 08:00-17:00" read in `timeZone`.
 *
 * @example
 * officeOpen('Mon-Fri 08:00-17:00', 'Europe/Paris', new Date('2026-11-27T10:00:00Z')); // true (a Friday)
 */
export function officeOpen(spec: string, timeZone: string, at: Date): boolean {
  const match = /^(\w{3})-(\w{3}) (\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(spec);
  if (!match) throw new Error(`office hours "${spec}" must look like "Mon-Fri 08:00-17:00"`);
  const [, from, to, h1, m1, h2, m2] = match;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  const day = DAYS.indexOf(part('weekday') as (typeof DAYS)[number]);
  const start = DAYS.indexOf(from as (typeof DAYS)[number]);
  const end = DAYS.indexOf(to as (typeof DAYS)[number]);
  const inDays = start <= end ? day >= start && day <= end : day >= start || day <= end;
  const minutes = Number(part('hour')) * 60 + Number(part('minute'));
  return inDays && minutes >= Number(h1) * 60 + Number(m1) && minutes < Number(h2) * 60 + Number(m2);
}
