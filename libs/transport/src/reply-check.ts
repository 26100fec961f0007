import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { ReplyClass, ReplyShape } from '@astral/contracts';
import { flattenFields } from './validation';

export type ReplyCheck<R> =
  { ok: true; value: R } | { ok: false; reason: string; fields: Record<string, string[]> };

const OPTIONS = { whitelist: true, forbidUnknownValues: true } as const;
/** A list reply longer than this is refused whole (the directory and supernodes list at most 1000). */
export const MAX_REPLY_ITEMS = 1000;

function instance<T>(cls: ReplyClass<T>, value: unknown): { value: T; errors: ValidationError[] } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      value: value as T,
      errors: [
        Object.assign(new ValidationError(), {
          property: '(reply)',
          constraints: { isObject: 'reply must be an object' },
        }),
      ],
    };
  }
  const inst = plainToInstance(cls, value);
  return { value: inst, errors: validateSync(inst as object, OPTIONS) };
}

function refusal<R>(fields: Record<string, string[]>): ReplyCheck<R> {
  return {
    ok: false,
    reason: `invalid reply: ${Object.keys(fields).join(', ') || 'malformed body'}`,
    fields,
  };
}

/**
 * Checks a reply from another process against its contract class(es): the same class-validator rules a
 * request passes (whitelist: unknown fields are dropped). Pure; `request` logs and throws a refusal.
 */
export function checkReply<R>(shape: ReplyShape<R>, reply: unknown): ReplyCheck<R> {
  if ('one' in shape) {
    const { value, errors } = instance(shape.one, reply);
    return errors.length ? refusal(flattenFields(errors)) : { ok: true, value };
  }
  if ('listOf' in shape) {
    if (!Array.isArray(reply)) return refusal({ '(reply)': ['reply must be an array'] });
    if (reply.length > MAX_REPLY_ITEMS)
      return refusal({ '(reply)': [`reply must list at most ${MAX_REPLY_ITEMS} items`] });
    const items: unknown[] = [];
    const fields: Record<string, string[]> = {};
    reply.forEach((item: unknown, i) => {
      const { value, errors } = instance(shape.listOf, item);
      items.push(value);
      Object.assign(fields, flattenFields(errors, `[${i}]`));
    });
    return Object.keys(fields).length ? refusal(fields) : { ok: true, value: items as R };
  }
  // Refused as none of them: report the branch the reply meant to be, the one it has the most fields of.
  let closest: { missing: number; fields: Record<string, string[]> } | undefined;
  for (const cls of shape.oneOf) {
    const { value, errors } = instance(cls, reply);
    if (errors.length === 0) return { ok: true, value };
    const missing = errors.filter((e) => e.value === undefined).length;
    const fields = flattenFields(errors);
    if (!closest || missing < closest.missing) closest = { missing, fields };
  }
  return refusal(closest?.fields ?? {});
}
