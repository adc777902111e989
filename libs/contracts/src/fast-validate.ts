import 'reflect-metadata';
import { TransformationType } from 'class-transformer';
import type { ClassConstructor } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { MetadataStorage, ValidationArguments } from 'class-validator';

/**
 * The fast path of contract validation (ADR 0001, "validation on read").
 *
 * `plainToInstance` + `validateSync` cost about 125 µs per event on this machine: most of it is the
 * machinery around the checks (metadata look-ups per call, instance creation, error objects), not the
 * checks. Here the same class-validator metadata is read once per class and compiled into a list of
 * the very same constraint functions (`IsString`, `Matches`, `IsIn`, ...), which are then called on
 * the plain object directly.
 *
 * The answer is one-sided on purpose: `true` only when the full path would find no violation, `false`
 * whenever the event might be invalid or uses a feature compiled here is not sure about. The caller
 * then runs the full path, which stays the only source of violations and error messages. So the fast
 * path can make validation cheaper, never more lenient: whatever it is unsure of, it leaves to
 * class-validator (`fast-validate.spec.ts` checks this against the full path on mutated events).
 */

type Plain = Record<string, unknown>;
type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

interface ConstraintCheck {
  each: boolean;
  property: string;
  constraints: unknown[];
  validate(value: unknown, args: ValidationArguments): unknown;
}

interface NestedType {
  /** class-transformer's @Type of the property: the class, or a discriminator over subtypes. */
  resolve(parent: Plain, value: unknown): ClassConstructor<object> | null;
}

interface CompiledProperty {
  name: string;
  conditions: ((object: Plain, value: unknown) => unknown)[];
  checks: ConstraintCheck[];
  nested: NestedType | null;
}

interface CompiledClass {
  name: string;
  allowed: Set<string>;
  properties: CompiledProperty[];
}

/** Classes the compiler cannot mirror exactly: always left to the full path. */
const UNSUPPORTED = null;
const compiled = new Map<ClassConstructor<object>, CompiledClass | typeof UNSUPPORTED>();

/**
 * An object plainToInstance copies key by key into a new instance (Object.keys): not an array, and
 * none of the values it converts specially (Date, Buffer, Map, Set, promises).
 */
function isObjectLike(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  if (value instanceof Date || value instanceof Map || value instanceof Set || Buffer.isBuffer(value)) return false;
  return typeof (value as Plain)['then'] !== 'function';
}

function nestedTypeOf(cls: ClassConstructor<object>, property: string): NestedType | typeof UNSUPPORTED {
  const meta = defaultMetadataStorage.findTypeMetadata(cls, property);
  // Without @Type, plainToInstance leaves a plain object, which forbidUnknownValues rejects.
  if (!meta?.typeFunction) return UNSUPPORTED;
  const discriminator = meta.options?.discriminator;
  if (discriminator) {
    // Dropping the discriminator mutates the input; only the keeping variant is mirrored.
    if (!meta.options.keepDiscriminatorProperty) return UNSUPPORTED;
    const byName = new Map<string, ClassConstructor<object>>();
    for (const sub of discriminator.subTypes) byName.set(sub.name, sub.value as ClassConstructor<object>);
    return {
      resolve: (_parent, value) => {
        if (!isObjectLike(value)) return null;
        const tag = value[discriminator.property];
        return typeof tag === 'string' ? byName.get(tag) ?? null : null;
      },
    };
  }
  return {
    resolve: (parent, value) => {
      const type = meta.typeFunction({ newObject: {}, object: parent, property });
      // Primitive targets are conversions, not nested classes.
      if (type === String || type === Number || type === Boolean || type === Date || type === Object || type === Array || type === Buffer) return null;
      return isObjectLike(value) ? (type as ClassConstructor<object>) : null;
    },
  };
}

function compile(cls: ClassConstructor<object>): CompiledClass | typeof UNSUPPORTED {
  const storage = getMetadataStorage();
  // The arguments ValidationExecutor.execute passes: no schema, no groups, always = false.
  const metadatas: ValidationMetadata[] = storage.getTargetValidationMetadatas(cls, '', false, false, undefined);
  if (metadatas.length === 0) return UNSUPPORTED;
  if (defaultMetadataStorage.getExposedMetadatas(cls).length || defaultMetadataStorage.getExcludedMetadatas(cls).length) return UNSUPPORTED;
  const grouped = storage.groupByPropertyName(metadatas);
  // Own properties of a fresh instance: an undecorated one fails the whitelist on every event, a
  // default value is validated instead of an absent one. Both are left to the full path.
  const blank: object = new cls();
  for (const [key, value] of Object.entries(blank)) {
    if (value !== undefined || !grouped[key]?.length) return UNSUPPORTED;
  }
  const properties: CompiledProperty[] = [];
  for (const [name, list] of Object.entries(grouped)) {
    if (defaultMetadataStorage.findTransformMetadatas(cls, name, TransformationType.PLAIN_TO_CLASS).length) return UNSUPPORTED;
    const property: CompiledProperty = { name, conditions: [], checks: [], nested: null };
    for (const m of list) {
      switch (m.type) {
        case ValidationTypes.IS_DEFINED:
        case ValidationTypes.CUSTOM_VALIDATION: {
          if (!m.constraintCls) return UNSUPPORTED;
          for (const constraint of storage.getTargetValidatorConstraints(m.constraintCls)) {
            // validateSync ignores asynchronous constraints; so does this.
            if (constraint.async) continue;
            const instance = constraint.instance;
            property.checks.push({ each: m.each === true, property: m.propertyName, constraints: m.constraints, validate: (v, a) => instance.validate(v, a) });
          }
          break;
        }
        case ValidationTypes.CONDITIONAL_VALIDATION: {
          const condition: unknown = m.constraints[0];
          if (typeof condition !== 'function') return UNSUPPORTED;
          property.conditions.push((object, value) => (condition as (o: Plain, v: unknown) => unknown)(object, value));
          break;
        }
        case ValidationTypes.NESTED_VALIDATION: {
          const nested = nestedTypeOf(cls, name);
          if (nested === UNSUPPORTED) return UNSUPPORTED;
          property.nested = nested;
          break;
        }
        case ValidationTypes.WHITELIST:
          break;
        default:
          return UNSUPPORTED;
      }
    }
    // A @Type on a property that is not validated as nested converts its value: not mirrored.
    if (!property.nested && defaultMetadataStorage.findTypeMetadata(cls, name)) return UNSUPPORTED;
    properties.push(property);
  }
  return { name: cls.name, allowed: new Set(Object.keys(grouped)), properties };
}

function compiledOf(cls: ClassConstructor<object>): CompiledClass | typeof UNSUPPORTED {
  let c = compiled.get(cls);
  if (c === undefined) {
    c = compile(cls);
    compiled.set(cls, c);
  }
  return c;
}

function passes(check: ConstraintCheck, object: Plain, value: unknown, targetName: string): boolean {
  const args: ValidationArguments = { targetName, property: check.property, object, value, constraints: check.constraints };
  if (check.each && (Array.isArray(value) || value instanceof Set || value instanceof Map)) {
    const items: unknown[] = value instanceof Map ? [...value.values()] : [...value];
    return items.every((item) => check.validate(item, args) === true);
  }
  return check.validate(value, args) === true;
}

function nestedPasses(nested: NestedType, parent: Plain, value: unknown, depth: number): boolean {
  // ValidationExecutor.nestedValidations: an absent value is not validated.
  if (value === undefined) return true;
  if (Array.isArray(value)) return value.every((item) => nestedPasses(nested, parent, item, depth));
  const type = nested.resolve(parent, value);
  return type !== null && isObjectLike(value) && classPasses(type, value, depth + 1);
}

/**
 * A value under a property without @Type (say, the envelope's `payload`): plainToInstance still walks
 * it and guesses each object's class from its `constructor`, which an own `constructor` key changes
 * (and can make it throw). Only values it copies as they are (JSON data) are answered here.
 */
function untypedPasses(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > 32) return false;
  if (Array.isArray(value)) return value.every((item) => untypedPasses(item, depth + 1));
  if (!isObjectLike(value) || (value as Plain)['constructor'] !== Object) return false;
  return Object.values(value).every((item) => untypedPasses(item, depth + 1));
}

function classPasses(cls: ClassConstructor<object>, plain: Plain, depth: number): boolean {
  if (depth > 16) return false;
  const c = compiledOf(cls);
  if (c === UNSUPPORTED) return false;
  // whitelist + forbidNonWhitelisted
  for (const key of Object.keys(plain)) if (!c.allowed.has(key)) return false;
  for (const p of c.properties) {
    const value = plain[p.name];
    if (p.conditions.length && !p.conditions.every((condition) => condition(plain, value))) continue;
    for (const check of p.checks) if (!passes(check, plain, value, c.name)) return false;
    if (p.nested ? !nestedPasses(p.nested, plain, value, depth) : !untypedPasses(value, 0)) return false;
  }
  return true;
}

/**
 * True only if `validateSync(plainToInstance(cls, plain), { whitelist: true, forbidNonWhitelisted:
 * true, forbidUnknownValues: true })` reports no violation. False means "not sure": run the full path.
 */
export function surelyValid(cls: ClassConstructor<object>, plain: unknown): boolean {
  if (!isObjectLike(plain)) return false;
  try {
    return classPasses(cls, plain, 0);
  } catch {
    return false;
  }
}
