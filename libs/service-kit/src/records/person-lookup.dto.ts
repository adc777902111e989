import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** `POST /persons/lookup`: a person by citizen ID, in the body (never in a URL). */
export class PersonLookupDto {
  @ApiProperty({ description: 'Citizen ID in any accepted form (18 characters, or 15 digits for an old one)', example: '44098119850315123X' })
  @IsString() @Length(15, 32)
  citizenId: string;
}
