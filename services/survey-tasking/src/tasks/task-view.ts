import { reasonLabel } from '@qmcb/domain';
import type { TaskRow } from '../targets/survey-task.repository';

/** What comes next for a target, given its status (each visit outcome has its follow-up). */
export const FOLLOW_UPS = ['visit', 'revisit', 'correct-and-resubmit', 'mobilise', 'cross-region-inquiry', 'transfer', 'verify-address', 'review'] as const;
export type FollowUpKind = (typeof FOLLOW_UPS)[number];

export interface FollowUp {
  kind: FollowUpKind;
  /** For a revisit: the planned date. */
  due: string | null;
  /** Away or moved out: where, if known. */
  whereRegion: string | null;
  whereText: string | null;
}

export function followUpOf(t: Pick<TaskRow, 'status' | 'revisitOn' | 'whereRegion' | 'whereText'>): FollowUp | null {
  const make = (kind: FollowUpKind, due: string | null = null, where = false): FollowUp => ({ kind, due, whereRegion: where ? t.whereRegion : null, whereText: where ? t.whereText : null });
  switch (t.status) {
    case 'open':
      return make('visit');
    case 'revisit':
      return make('revisit', t.revisitOn);
    case 'returned':
      return make('correct-and-resubmit');
    case 'refused':
      // Found but refuses: the grassroots platform goes back to explain the policy (动员参保).
      return make('mobilise');
    case 'away':
      // Working or living elsewhere: asked of the region where they are (cross-region exchange).
      return make('cross-region-inquiry', null, true);
    case 'moved-out':
      return make('transfer', null, true);
    case 'not-found':
      return make('verify-address');
    case 'submitted':
    case 'initial-approved':
    case 'death-claimed':
      return make('review');
    case 'approved':
    case 'deceased':
    case 'closed':
      return null;
  }
}

/** Why the person is a target, in the words read out at the door. */
export interface Why {
  code: string;
  label: string;
  explanation: string;
}

export type TaskView = TaskRow & { why: Why[]; followUp: FollowUp | null };

export function taskView(row: TaskRow): TaskView {
  return {
    ...row,
    why: row.reasons.map((code) => {
      const { label, explanation } = reasonLabel(code);
      return { code, label, explanation };
    }),
    followUp: followUpOf(row),
  };
}
