import { IsString, Length, Matches } from 'class-validator';

/**
 * `person.erased` v1 (PIPL art. 47 and 51; docs/adr/0010-erasure-reaches-projections.md): the
 * operator's `keyring erase` appends it for the person, sealed under their key like every event,
 * just before their data key is destroyed. Every projection handles it by deleting every row it
 * holds of the person, so the live projections come to equal what a rebuild makes of the log once
 * the key is gone (a rebuild cannot open any event of the person, this one included). It carries no
 * personal data: the person is the envelope's personKey (sealed), the reason is the operator's text.
 */
export const PERSON_ERASED = 'person.erased';

export class PersonErasedV1 {
  /** Why, e.g. `PIPL art. 47 request 2026-118`: never personal data (the operator is told so). */
  @IsString() @Length(1, 500)
  reason: string;

  /** Who asked for the erasure (the operator running the command), e.g. `operator:ops-1`. */
  @IsString() @Length(1, 128) @Matches(/^\S+$/, { message: 'requestedBy must be one word, e.g. operator:<name>' })
  requestedBy: string;
}
