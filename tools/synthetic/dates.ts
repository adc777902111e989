/** Calendar dates as YYYY-MM-DD strings, computed in UTC (no local time zone ever enters). */

const DAY_MS = 86_400_000;

export function toDate(date: string): Date {
  return new Date(`${date}T00:00:00Z`);
}

export function fromDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return fromDate(new Date(toDate(date).getTime() + days * DAY_MS));
}

/** The same day `years` earlier; 29 February becomes 28 February in a common year. */
export function minusYears(date: string, years: number): string {
  const y = Number(date.slice(0, 4)) - years;
  const md = date.slice(5);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return `${String(y).padStart(4, '0')}-${md === '02-29' && !leap ? '02-28' : md}`;
}


export function isRealDate(date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false;
  const d = toDate(date);
  return !Number.isNaN(d.getTime()) && fromDate(d) === date;
}
