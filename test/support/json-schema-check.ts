import type { Document } from 'mongodb';

/**
 * The part of MongoDB's `$jsonSchema` that scripts/mongo-init.js uses (bsonType, required,
 * properties, enum, minimum/maximum, minLength/maxLength, pattern), applied to a document read
 * with `promoteValues: false` so int32, int64 and double stay apart. Returns the violations.
 */
export function checkJsonSchema(schema: Document, value: unknown, path = '$'): string[] {
  const problems: string[] = [];
  const type = bsonTypeOf(value);
  if (schema.bsonType !== undefined) {
    const allowed = [schema.bsonType].flat() as string[];
    const ok = allowed.some((t) => t === type || (t === 'number' && ['int', 'long', 'double', 'decimal'].includes(type)));
    if (!ok) return [`${path}: ${type} is not ${allowed.join(' or ')}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e: unknown) => sameValue(e, value))) {
    problems.push(`${path}: ${JSON.stringify(plain(value))} is not one of ${JSON.stringify(schema.enum)}`);
  }
  const n = ['int', 'long', 'double', 'decimal'].includes(type) ? Number(plain(value)) : undefined;
  if (n !== undefined && typeof schema.minimum === 'number' && n < schema.minimum)
    problems.push(`${path}: ${n} < ${schema.minimum}`);
  if (n !== undefined && typeof schema.maximum === 'number' && n > schema.maximum)
    problems.push(`${path}: ${n} > ${schema.maximum}`);
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength)
      problems.push(`${path}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && length > schema.maxLength)
      problems.push(`${path}: longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
      problems.push(`${path}: does not match ${schema.pattern}`);
    }
  }
  if (type === 'array' && schema.items !== undefined) {
    (value as unknown[]).forEach((item, i) => {
      problems.push(...checkJsonSchema(schema.items as Document, item, `${path}[${i}]`));
    });
  }
  if (type === 'object') {
    const doc = value as Document;
    for (const key of (schema.required ?? []) as string[]) {
      if (!(key in doc)) problems.push(`${path}.${key}: required`);
    }
    for (const [key, sub] of Object.entries((schema.properties ?? {}) as Record<string, Document>)) {
      if (key in doc) problems.push(...checkJsonSchema(sub, doc[key], `${path}.${key}`));
    }
  }
  return problems;
}

function bsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'double';
  if (value instanceof Date) return 'date';
  if (Array.isArray(value)) return 'array';
  const bsontype = (value as { _bsontype?: string })._bsontype;
  switch (bsontype) {
    case 'Int32':
      return 'int';
    case 'Double':
      return 'double';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'ObjectId':
      return 'objectId';
    case undefined:
      return 'object';
    default:
      return bsontype.toLowerCase();
  }
}

function plain(value: unknown): unknown {
  const t = (value as { _bsontype?: string } | null)?._bsontype;
  return t === 'Int32' || t === 'Double' || t === 'Long' ? Number(String(value)) : value;
}

/** MongoDB compares numbers by value across int, long and double. */
function sameValue(a: unknown, b: unknown): boolean {
  return plain(a) === plain(b);
}
