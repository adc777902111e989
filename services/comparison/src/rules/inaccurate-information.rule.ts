import { identityStatements, maskCitizenId } from '@qmcb/domain';
import type { IdentityStatement } from '@qmcb/domain';
import { hit } from './context';
import type { FactRef, Rule, RuleContext, RuleHit } from './types';

/** Names are compared after trimming and turning full-width characters half-width. */
export function normaliseName(name: string): string {
  return name
    .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
    .trim();
}

/** The field as a fact name: plain for a department's only kind of record, else with the slot (`pension:resident:440981.name`). */
function factField(slot: string, field: string): string {
  return ['household', 'tax', 'enrolment', 'custody'].includes(slot) ? field : `${slot.replace(/^insurance:/, '')}.${field}`;
}

/** What every held department record says of a field, and what the valid ID encodes. */
function said(ctx: RuleContext, statements: IdentityStatement[], field: 'name' | 'sex' | 'birthDate'): FactRef[] {
  const facts: FactRef[] = [];
  for (const st of statements) {
    const value = st[field];
    if (value !== null) facts.push({ source: st.claimant, field: factField(st.slot, field), value, asOf: st.asOf });
  }
  if (ctx.idInfo && field !== 'name') facts.push({ source: 'citizen-id', field, value: ctx.idInfo[field], asOf: null });
  return facts;
}

function disagree(facts: FactRef[], normalise: (v: string) => string = (v) => v): boolean {
  return new Set(facts.map((f) => normalise(String(f.value)))).size > 1;
}

/**
 * Inaccurate information (信息不准, procedure §10): the ID as last sent fails GB 11643, or two sources
 * disagree on name, sex or birth date (sex and birth date also against what a valid ID encodes).
 * Every held record counts on its own, so two business systems of one department can disagree
 * (procedure §8); a department's newer record of the same slot replaces its older one.
 * An approved survey form settles the name: once the form gives one, departments that disagree with
 * it are shown but no longer make the person a survey target again.
 */
export const inaccurateInformation: Rule = {
  name: 'inaccurate-information',
  version: 1,
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    const { record } = ctx;
    if (!record.citizenIdValid) {
      const sent = record.citizenId === null ? null : maskCitizenId(record.citizenId);
      hits.push(hit(this, 'INACCURATE_CITIZEN_ID', 'the citizen ID as last sent fails GB 11643', [{ source: 'citizen-id', field: 'citizenId', value: sent, asOf: null }]));
    }
    // An approved form gives the name the county verified: the departments' names no longer count against it.
    const statements = identityStatements(record);
    const names = said(ctx, statements, 'name');
    if ((ctx.record.claims.survey?.name ?? null) === null && disagree(names, normaliseName)) {
      hits.push(hit(this, 'INACCURATE_NAME', 'sources disagree on the name', names));
    }
    const sexes = said(ctx, statements, 'sex');
    if (disagree(sexes)) hits.push(hit(this, 'INACCURATE_SEX', 'sources disagree on the sex', sexes));
    const births = said(ctx, statements, 'birthDate');
    if (disagree(births)) hits.push(hit(this, 'INACCURATE_BIRTH_DATE', 'sources disagree on the birth date', births));
    return hits;
  },
};
