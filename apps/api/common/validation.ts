// The API's one validation approach: class-validator DTOs behind a global ValidationPipe that
// strips nothing silently (unknown fields are an error) and reports every problem with the
// field's path and where it was (path, query, body).
import { applyDecorators, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { IsString, Matches, type ValidationError } from 'class-validator';
import { ID_PATTERN } from '../../../workflows/validation';
import { DomainError } from './errors';

export { ID_PATTERN };

/** ISO 8601 date-time with an explicit zone (`Z` or `±hh:mm`): a time without one is ambiguous. */
export const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Ids end up in object names and file paths, so they are restricted everywhere (contract). */
export const IsId = () => applyDecorators(IsString(), Matches(ID_PATTERN, { message: '$property must match [A-Za-z0-9_-]{1,64}' }));

export const IsZonedTime = () =>
  applyDecorators(IsString(), Matches(ZONED_TIME, { message: '$property must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T12:00:00Z' }));

export interface FieldProblem {
  field: string;
  in?: string;
  problem: string;
}

export class InvalidRequest extends DomainError {
  constructor(readonly fields: FieldProblem[]) {
    const first = fields[0];
    const more = fields.length > 1 ? ` (and ${fields.length - 1} more)` : '';
    super('invalid', 'invalid_request', first ? `${first.field}: ${first.problem}${more}` : 'invalid request', { fields });
  }
}

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = /^\d+$/.test(e.property) ? `${prefix}[${e.property}]` : prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((problem) => ({ field, problem }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    try {
      return await super.transform(value, metadata);
    } catch (e) {
      if (e instanceof InvalidRequest) {
        const where = metadata.type === 'param' ? 'path' : metadata.type;
        throw new InvalidRequest(e.fields.map((f) => ({ ...f, in: where })));
      }
      throw e;
    }
  }
}

export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new InvalidRequest(flatten(errors)),
  });
}
