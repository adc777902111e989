import { IsIn, Matches } from 'class-validator';
import { IsCalendarDate } from '../calendar-date';
import { CARD_NUMBER, CARD_REPLACEMENT_REASONS, DATE_PATTERN } from '../business-vocabulary';
import type { CardReplacementReason } from '../business-vocabulary';
import { DIVISION_PATTERNS } from '../vocabulary';
import { BusinessEventBase } from './insurance-business.events';

export const CARD_ISSUED = 'card.issued';
export const CARD_LOST = 'card.lost';
export const CARD_REPLACED = 'card.replaced';

const cardNumber = (field: string): { message: string } => ({ message: `${field} must be 9 to 20 upper-case letters and digits` });

/** 社会保障卡发放: a card was issued to the person (seed 004: 人手一卡). */
export class CardIssuedV1 extends BusinessEventBase {
  @Matches(CARD_NUMBER, cardNumber('cardNumber'))
  cardNumber: string;

  @Matches(DATE_PATTERN, { message: 'issuedOn must be YYYY-MM-DD' }) @IsCalendarDate()
  issuedOn: string;

  @Matches(DIVISION_PATTERNS.county, { message: 'issuingRegion must be a 6-digit county code' })
  issuingRegion: string;
}

/** 挂失: the card was reported lost. */
export class CardLostV1 extends BusinessEventBase {
  @Matches(CARD_NUMBER, cardNumber('cardNumber'))
  cardNumber: string;

  @Matches(DATE_PATTERN, { message: 'reportedOn must be YYYY-MM-DD' }) @IsCalendarDate()
  reportedOn: string;
}

/** 补换卡: a new card replaces the previous one. */
export class CardReplacedV1 extends BusinessEventBase {
  @Matches(CARD_NUMBER, cardNumber('previousCardNumber'))
  previousCardNumber: string;

  @Matches(CARD_NUMBER, cardNumber('cardNumber'))
  cardNumber: string;

  @Matches(DATE_PATTERN, { message: 'issuedOn must be YYYY-MM-DD' }) @IsCalendarDate()
  issuedOn: string;

  @IsIn(CARD_REPLACEMENT_REASONS)
  reason: CardReplacementReason;
}
