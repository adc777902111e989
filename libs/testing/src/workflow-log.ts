import {
  OUTCOME_DETERMINED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_RETURNED,
  SOURCE_RECORD_RECEIVED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_TASK_CREATED,
  deterministicId,
} from '@qmcb/contracts';
import type { CollectedForm, EventOf, RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter, villagesOf } from '@qmcb/domain';

type Envelope = Pick<RegistrationEvent, 'eventId' | 'personKey' | 'occurredAt' | 'recordedAt' | 'source' | 'actor' | 'correlationId' | 'causationId' | 'basedOnVersion'>;

function envelope(id: string, personKey: string, day: number, source: string, causationId: string | null = null): Envelope {
  const at = new Date(Date.UTC(2026, 10, 1) + day * 3_600_000).toISOString();
  return { eventId: id, personKey, occurredAt: at, recordedAt: at, source, actor: source, correlationId: deterministicId('workflow', personKey), causationId, basedOnVersion: null };
}

/**
 * A log as the four services write it together, for tests of the projections: people with a
 * household record (some also insured), comparison's outcomes (some changing back and forth), the
 * survey tasks those lead to (with the IDs survey tasking derives from the outcome), surveyors' forms,
 * and reviews that approve, return and finally approve them; people interleaved, so a consumer batch
 * holds several events of many people. `tasks: false` leaves the tasks out, as survey tasking sees
 * the log while it is the one creating them (they reach the log only after it did).
 */
export function workflowLog(people: number, opts: { county?: string; tasks?: boolean } = {}): RegistrationEvent[] {
  const county = opts.county ?? '440981';
  const villages = villagesOf(county).map((v) => v.code);
  const perPerson: RegistrationEvent[][] = [];
  for (let i = 0; i < people; i++) {
    const birth = `19${String(40 + (i % 60)).padStart(2, '0')}0${1 + (i % 9)}1${i % 10}`;
    const id17 = `${county}${birth}${String(100 + (i % 900)).padStart(3, '0')}`;
    const personKey = `${id17}${checkCharacter(id17)}`;
    const village = villages[i % villages.length] as string;
    const events: RegistrationEvent[] = [];
    const household: EventOf<typeof SOURCE_RECORD_RECEIVED> = {
      ...envelope(deterministicId('workflow', 'household', personKey), personKey, 0, 'dept:public-security'),
      type: SOURCE_RECORD_RECEIVED,
      schemaVersion: 1,
      payload: {
        department: 'public-security',
        sourceRecordId: `H-${i}`,
        mode: 'snapshot',
        citizenIdAsSent: personKey,
        citizenIdValid: true,
        asOf: '2026-11-01T00:00:00Z',
        facts: { kind: 'household', name: `王${i}`, villageCode: village, status: 'normal' },
      },
    };
    events.push(household);
    if (i % 3 === 0) {
      events.push({
        ...envelope(deterministicId('workflow', 'insured', personKey), personKey, 1, 'dept:social-insurance'),
        type: SOURCE_RECORD_RECEIVED,
        schemaVersion: 1,
        payload: {
          department: 'social-insurance',
          sourceRecordId: `I-${i}`,
          mode: 'snapshot',
          citizenIdAsSent: personKey,
          citizenIdValid: true,
          asOf: '2026-11-01T01:00:00Z',
          facts: { kind: 'insurance', insuranceType: 'medical', scheme: 'resident', status: 'active', region: county },
        },
      });
    }
    const outcome = (n: number, value: 'needs-survey' | 'registered', previous: 'needs-survey' | 'registered' | 'none'): EventOf<typeof OUTCOME_DETERMINED> => ({
      ...envelope(deterministicId('workflow', 'outcome', personKey, String(n)), personKey, 2 + n, 'svc:comparison', household.eventId),
      type: OUTCOME_DETERMINED,
      schemaVersion: 2,
      payload: {
        outcome: value,
        previousOutcome: previous,
        reasons: value === 'registered' ? [{ code: 'COMPLETE', rule: 'registered-directly', ruleVersion: 1, detail: '' }] : [{ code: 'UNINSURED', rule: 'uninsured', ruleVersion: 1, detail: 'none active' }],
      },
    });
    const first = outcome(0, 'needs-survey', 'none');
    events.push(first);
    if (i % 5 === 1) {
      // back and forth: a second needs-survey while the first task is open makes no second task
      events.push(outcome(1, 'registered', 'needs-survey'), outcome(2, 'needs-survey', 'registered'));
    }
    const taskId = deterministicId('survey', 'task', first.eventId);
    if (opts.tasks !== false) events.push({
      ...envelope(deterministicId('survey', 'task-created', first.eventId), personKey, 5, 'svc:survey-tasking', first.eventId),
      type: SURVEY_TASK_CREATED,
      schemaVersion: 1,
      payload: { taskId, villageCode: village, reasons: ['UNINSURED'] },
    });
    if (i % 4 !== 3) {
      const submissionId = deterministicId('workflow', 'submission', personKey);
      const form: CollectedForm = {
        name: `王${i}`,
        phone: '13800000000',
        employmentStatus: 'farmer',
        residenceAddress: '高州市某村',
        residenceDivision: village,
        insurance: [{ insuranceType: 'medical', scheme: 'resident', status: 'active', region: county }],
        insuredElsewhere: false,
      };
      events.push({
        ...envelope(deterministicId('workflow', 'submitted', personKey), personKey, 6, 'svc:survey-tasking'),
        type: SURVEY_FORM_SUBMITTED,
        schemaVersion: 1,
        payload: { taskId, submissionId, surveyorId: `surveyor-${i % 7}`, form },
      });
      const reviewId = deterministicId('review', 'item', submissionId);
      if (i % 4 !== 2) {
        events.push({
          ...envelope(deterministicId('workflow', 'initial', personKey), personKey, 7, 'svc:review'),
          type: REVIEW_INITIAL_APPROVED,
          schemaVersion: 1,
          payload: { reviewId, submissionId, reviewerId: 'township', townshipCode: village.slice(0, 9), comment: 'ok' },
        });
        if (i % 2 === 0) {
          events.push({
            ...envelope(deterministicId('workflow', 'final', personKey), personKey, 8, 'svc:review'),
            type: REVIEW_FINAL_APPROVED,
            schemaVersion: 1,
            payload: { reviewId, submissionId, reviewerId: 'county', countyCode: county, form },
          });
        }
      } else {
        events.push({
          ...envelope(deterministicId('workflow', 'returned', personKey), personKey, 7, 'svc:review'),
          type: REVIEW_RETURNED,
          schemaVersion: 1,
          payload: { reviewId, submissionId, stage: 'initial', reviewerId: 'township', reason: 'phone number wrong' },
        });
      }
    }
    perPerson.push(events);
  }
  const out: RegistrationEvent[] = [];
  for (let k = 0; perPerson.some((es) => es.length > k); k++) for (const es of perPerson) if (es[k]) out.push(es[k] as RegistrationEvent);
  return out;
}
