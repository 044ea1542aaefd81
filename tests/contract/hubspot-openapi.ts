import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Just enough OpenAPI 3.0 to check HubSpot traffic against HubSpot's published specs: operation
 * lookup by method + path, and a schema validator ($ref, type, required, properties,
 * additionalProperties, items, enum, nullable, allOf/oneOf/anyOf, date-time/uuid formats).
 */

type Json = Record<string, unknown>;
type Doc = { file: string; doc: Json };

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Operation {
  file: string;
  template: string;
  doc: Json;
  op: Json;
  params: Json[];
}

export class OpenApiSpecs {
  private readonly docs: Doc[];

  constructor(dir: string, opts: { errata: (doc: Json) => void; skip: (file: string) => boolean }) {
    const { errata, skip } = opts;
    this.docs = readdirSync(dir)
      .filter((f) => f.endsWith('.json') && !skip(f))
      .map((file) => {
        const doc = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Json;
        errata(doc);
        return { file, doc };
      });
  }

  /** The operation whose path template matches, preferring the one with most literal segments. */
  find(method: string, requestPath: string): Operation | undefined {
    let best: { op: Operation; score: number } | undefined;
    for (const { file, doc } of this.docs) {
      for (const [template, item] of Object.entries(doc.paths as Json)) {
        const op = isObject(item) ? item[method.toLowerCase()] : undefined;
        if (!isObject(op) || !isObject(item)) continue;
        const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
        if (!pattern.test(requestPath)) continue;
        const score = template.split('/').filter((s) => s && !s.startsWith('{')).length;
        const params = [...((item.parameters as Json[] | undefined) ?? []), ...((op.parameters as Json[] | undefined) ?? [])];
        if (!best || score > best.score) best = { op: { file, template, doc, op, params }, score };
      }
    }
    return best?.op;
  }

  deref(doc: Json, node: unknown): Json {
    let current = node;
    for (let hops = 0; isObject(current) && typeof current.$ref === 'string' && hops < 20; hops++) {
      current = current.$ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), doc);
    }
    return isObject(current) ? current : {};
  }

  /** The JSON schema of a request or response `content` map (first media type). */
  contentSchema(doc: Json, holder: unknown): Json | undefined {
    const content = this.deref(doc, holder).content;
    if (!isObject(content)) return undefined;
    const media = Object.values(content)[0];
    return isObject(media) && media.schema ? this.deref(doc, media.schema) : undefined;
  }

  validate(doc: Json, schemaNode: unknown, value: unknown, at = '$'): string[] {
    const schema = this.deref(doc, schemaNode);
    if (value === null || value === undefined) return schema.nullable || value === undefined ? [] : [`${at}: null is not allowed`];
    const errors: string[] = [];
    for (const sub of (schema.allOf as unknown[] | undefined) ?? []) errors.push(...this.validate(doc, sub, value, at));
    if (Array.isArray(schema.oneOf)) {
      const passing = schema.oneOf.filter((sub) => this.validate(doc, sub, value, at).length === 0).length;
      if (passing !== 1) errors.push(`${at}: matches ${passing} of the oneOf schemas, expected exactly 1`);
    }
    if (Array.isArray(schema.anyOf) && !schema.anyOf.some((sub) => this.validate(doc, sub, value, at).length === 0)) {
      errors.push(`${at}: matches none of the anyOf schemas`);
    }
    if (Array.isArray(schema.enum) && !schema.enum.includes(value))
      errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
    const type = schema.type ?? (schema.properties || schema.additionalProperties ? 'object' : undefined);
    switch (type) {
      case 'object': {
        if (!isObject(value)) return [...errors, `${at}: expected an object, got ${JSON.stringify(value)}`];
        for (const name of (schema.required as string[] | undefined) ?? [])
          if (!(name in value)) errors.push(`${at}: missing required "${name}"`);
        const props = isObject(schema.properties) ? schema.properties : {};
        for (const [name, v] of Object.entries(value)) {
          if (name in props) errors.push(...this.validate(doc, props[name], v, `${at}.${name}`));
          else if (isObject(schema.additionalProperties))
            errors.push(...this.validate(doc, schema.additionalProperties, v, `${at}.${name}`));
          else if (schema.additionalProperties === false) errors.push(`${at}: unexpected "${name}"`);
        }
        break;
      }
      case 'array':
        if (!Array.isArray(value)) return [...errors, `${at}: expected an array`];
        value.forEach((item, i) => {
          errors.push(...this.validate(doc, schema.items, item, `${at}[${i}]`));
        });
        break;
      case 'string':
        if (typeof value !== 'string') errors.push(`${at}: expected a string, got ${JSON.stringify(value)}`);
        else if (schema.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value))
          errors.push(`${at}: "${value}" is not a date-time`);
        else if (schema.format === 'uuid' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
          errors.push(`${at}: "${value}" is not a uuid`);
        break;
      case 'integer':
        if (!Number.isInteger(value)) errors.push(`${at}: expected an integer, got ${JSON.stringify(value)}`);
        break;
      case 'number':
        if (typeof value !== 'number') errors.push(`${at}: expected a number, got ${JSON.stringify(value)}`);
        break;
      case 'boolean':
        if (typeof value !== 'boolean') errors.push(`${at}: expected a boolean, got ${JSON.stringify(value)}`);
        break;
    }
    return errors;
  }
}
