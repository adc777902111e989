import { maskCitizenId } from '@qmcb/domain';
import type { FieldCandidate } from '@qmcb/domain';
import { hit } from './context';
import type { FactRef, Rule, RuleHit } from './types';

/** Names are compared after trimming and turning full-width characters half-width. */
export function normaliseName(name: string): string {
  return name
    .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
    .trim();
}

function candidateFacts<T extends string>(field: string, candidates: FieldCandidate<T>[]): FactRef[] {
  return candidates.map((c) => ({ source: c.source, field, value: c.value, asOf: c.asOf }));
}

function disagree<T extends string>(candidates: FieldCandidate<T>[], normalise: (v: T) => string = (v) => v): boolean {
  return new Set(candidates.map((c) => normalise(c.value))).size > 1;
}

/**
 * Inaccurate information (信息不准, procedure §10): the ID as last sent fails GB 11643, or two sources
 * disagree on name, sex or birth date (sex and birth date also against what a valid ID encodes).
 * An approved survey form settles the name: once the form gives one, departments that disagree with
 * it are shown but no longer make the person a survey target again.
 */
export const inaccurateInformation: Rule = {
  name: 'inaccurate-information',
  version: 1,
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    const { record, fields } = ctx;
    if (!record.citizenIdValid) {
      const sent = record.citizenId === null ? null : maskCitizenId(record.citizenId);
      hits.push(hit(this, 'INACCURATE_CITIZEN_ID', 'the citizen ID as last sent fails GB 11643', [{ source: 'citizen-id', field: 'citizenId', value: sent, asOf: null }]));
    }
    const names = fields.name.candidates;
    if (fields.name.source !== 'survey' && disagree(names, normaliseName)) {
      hits.push(hit(this, 'INACCURATE_NAME', 'sources disagree on the name', candidateFacts('name', names)));
    }
    if (disagree(fields.sex.candidates)) {
      hits.push(hit(this, 'INACCURATE_SEX', 'sources disagree on the sex', candidateFacts('sex', fields.sex.candidates)));
    }
    if (disagree(fields.birthDate.candidates)) {
      hits.push(hit(this, 'INACCURATE_BIRTH_DATE', 'sources disagree on the birth date', candidateFacts('birthDate', fields.birthDate.candidates)));
    }
    return hits;
  },
};
