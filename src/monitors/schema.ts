import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { VigilError } from '../errors.js';

/**
 * Input schemas shared by the REST API (validation and OpenAPI) and the CLI, so every
 * entry point bounds and checks input the same way.
 */
export const MAX_DURATION_LIMIT = 31 * 24 * 3600;

/**
 * Limits counted in characters (code points), as SPEC counts an identifier's 255 and as the
 * ingest path does. A schema's maxLength counts UTF-16 units in TypeBox but code points in
 * the HTTP layer's Ajv, so the schemas allow two units per character and `validateMonitor` checks these.
 */
const CHARACTER_LIMITS: Readonly<Record<string, number>> = { identifier: 255, description: 2000 };

// 1–255 printable characters: no control characters (C0, DEL, C1).
const identifier = Type.String({ minLength: 1, maxLength: 2 * 255, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]+$' });

const monitorFields = {
  type: Type.Union([Type.Literal('cron'), Type.Literal('heartbeat')]),
  schedule: Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()]),
  timezone: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]),
  max_duration: Type.Integer({ minimum: 1, maximum: MAX_DURATION_LIMIT }),
  description: Type.String({ maxLength: 2 * 2000 }),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 }),
  notifier_ids: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 32 }),
  failure_threshold: Type.Integer({ minimum: 1, maximum: 100 }),
  recovery_threshold: Type.Integer({ minimum: 1, maximum: 100 }),
  paused: Type.Boolean(),
};

const MonitorFields = Type.Object(monitorFields);
const strict = { additionalProperties: false } as const;

export const MonitorCreateSchema = Type.Composite(
  [Type.Object({ identifier, type: monitorFields.type }), Type.Partial(Type.Omit(MonitorFields, ['type']))],
  strict,
);
export const MonitorPatchSchema = Type.Composite(
  [Type.Partial(Type.Object({ identifier })), Type.Partial(MonitorFields)],
  strict,
);
/** `PUT …/by-identifier/{identifier}`: the identifier comes from the path. */
export const MonitorPutSchema = Type.Composite(
  [Type.Object({ type: monitorFields.type }), Type.Partial(Type.Omit(MonitorFields, ['type']))],
  strict,
);

export type MonitorCreate = Static<typeof MonitorCreateSchema>;
export type MonitorPatch = Static<typeof MonitorPatchSchema>;

export const AppCreateSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    environment: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
  },
  { additionalProperties: false },
);
export const AppPatchSchema = Type.Partial(AppCreateSchema, { additionalProperties: false });
export type AppCreate = Static<typeof AppCreateSchema>;
export type AppPatch = Static<typeof AppPatchSchema>;

const compiled = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();

/** Checks `value` against `schema`; throws a VigilError naming the first bad field. */
export function validate<T extends TSchema>(schema: T, value: unknown): Static<T> {
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = TypeCompiler.Compile(schema)));
  if (check.Check(value)) return value as Static<T>;
  const first = check.Errors(value).First();
  const field = first?.path.replace(/^\//, '').replace(/\//g, '.') || 'body';
  throw new VigilError('invalid_field', `${field}: ${first?.message.toLowerCase() ?? 'invalid'}`, field);
}

/** `validate` for a monitor's fields: their character limits come first, so any overlong text gets that message. */
export function validateMonitor<T extends TSchema>(schema: T, value: unknown): Static<T> {
  if (typeof value === 'object' && value !== null) {
    for (const [field, limit] of Object.entries(CHARACTER_LIMITS)) {
      const text = (value as Record<string, unknown>)[field];
      if (typeof text === 'string' && [...text].length > limit) throw new VigilError('invalid_field', `${field}: longer than ${limit} characters`, field);
    }
  }
  return validate(schema, value);
}
