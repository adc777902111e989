import type { RegionPolicy, RegistrationRecord } from '@qmcb/domain';
import { buildContext, graduationDate } from '../rules/context';

/** The next day a decision may change by itself, and what falls due then. */
export interface RecompareDue {
  /** YYYY-MM-DD, in China (UTC+8). */
  dueDate: string;
  because: string[];
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The day someone born on `birthDate` turns `age` (a 29 February birthday comes on 1 March, as in ageOn). */
export function birthdayAt(birthDate: string, age: number): string {
  const year = Number(birthDate.slice(0, 4)) + age;
  const monthDay = birthDate.slice(5);
  if (monthDay === '02-29' && !isLeap(year)) return `${String(year).padStart(4, '0')}-03-01`;
  return `${String(year).padStart(4, '0')}-${monthDay}`;
}

/**
 * The first day after `asOfDate` on which comparing the same record could decide otherwise, with
 * nothing new known: every date the rules read from the calendar (the ages of the region policy,
 * the end of the school year a student expects to graduate in, a release date, an employer opening
 * or closing later). Null when no such day is ahead. Pure: the same record, policy and day give the
 * same answer, so a rebuild schedules the same days. A rule that starts reading another date must
 * add it here (next-due.spec.ts holds the two together).
 */
export function nextRecompare(record: RegistrationRecord, policy: RegionPolicy, asOfDate: string): RecompareDue | null {
  const ctx = buildContext(record, policy, `${asOfDate}T00:00:00+08:00`);
  const candidates: { date: string; because: string }[] = [];
  const birth = ctx.fields.birthDate.value;
  if (birth !== null && /^\d{4}-\d{2}-\d{2}$/.test(birth)) {
    const ages: [number, string][] = [
      [policy.pensionMinAge, 'pensionMinAge'],
      [policy.retirementAge, 'retirementAge'],
      [policy.pensionAgeCheck, 'pensionAgeCheck'],
    ];
    for (const [age, name] of ages) candidates.push({ date: birthdayAt(birth, age), because: `age ${age} (${name})` });
  }
  const enrolment = record.enrolment;
  if (enrolment?.enrolled === true && enrolment.expectedGraduationYear !== null) {
    candidates.push({ date: graduationDate(enrolment.expectedGraduationYear), because: `school year of ${enrolment.expectedGraduationYear} ends` });
  }
  const custody = record.custody;
  if (custody?.inCustody === true && custody.releaseDate !== null) candidates.push({ date: custody.releaseDate, because: 'release date' });
  const employer = record.employer;
  if (employer !== null) candidates.push({ date: employer.effectiveDate, because: `employer ${employer.status === 'open' ? 'opens' : 'closes'}` });

  const ahead = candidates.filter((c) => c.date > asOfDate);
  if (ahead.length === 0) return null;
  const dueDate = ahead.map((c) => c.date).sort()[0] as string;
  const because = [...new Set(ahead.filter((c) => c.date === dueDate).map((c) => c.because))];
  return { dueDate, because };
}

/** Midnight of a China day, as an instant: the business time of the recompare event of that day. */
export function startOfChinaDay(date: string): string {
  return new Date(`${date}T00:00:00+08:00`).toISOString();
}
