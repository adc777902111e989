import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** The most items one page may hold. */
export const MAX_PAGE_LIMIT = 500;
/**
 * The deepest offset a list accepts: beyond it the database would scan that many rows for one page
 * (and beyond 2^63 it could not even take the number); page by a filter or a cursor instead.
 */
export const MAX_PAGE_OFFSET = 1_000_000;

/** `limit`: 1..MAX_PAGE_LIMIT (a query-string number). */
export function PageLimit(defaultValue = 50, max = MAX_PAGE_LIMIT): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ type: Number, default: defaultValue, minimum: 1, maximum: max }), IsOptional(), Type(() => Number), IsInt(), Min(1), Max(max));
}

/** `offset`: 0..MAX_PAGE_OFFSET (a query-string number); larger ones are a 400, never a database error. */
export function PageOffset(): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ type: Number, default: 0, minimum: 0, maximum: MAX_PAGE_OFFSET }), IsOptional(), Type(() => Number), IsInt(), Min(0), Max(MAX_PAGE_OFFSET));
}
