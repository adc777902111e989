import { IsIn } from 'class-validator';

/**
 * `comparison.recompare-requested` v1: comparison asks itself to compare a person again, through the
 * log, because something about another person changed what this one's decision rests on (a link of
 * records under a mistyped ID proposed, confirmed or rejected; a linked record's facts changed). It
 * is applied by the person's own partition, so no batch ever writes another partition's people
 * (docs/adr/0008-coverage-links-and-statistics.md). It changes nothing in the record itself.
 */
export const RECOMPARE_REQUESTED = 'comparison.recompare-requested';

/**
 * `link-search`: records under a mistyped ID looked for their person while people were arriving in
 * another partition; they look again once those are committed (docs/design/identity-linking.md).
 */
export const RECOMPARE_REASONS = ['link-proposed', 'link-confirmed', 'link-rejected', 'linked-record-changed', 'link-search'] as const;
export type RecompareReason = (typeof RECOMPARE_REASONS)[number];

export class RecompareRequestedV1 {
  @IsIn(RECOMPARE_REASONS)
  reason: RecompareReason;
}
