/**
 * Validates synthesized objects against the Kubernetes 1.28 API schema.
 *
 * The schema comes from `@kubernetes/client-node` 0.20.0, the official client generated from the Kubernetes OpenAPI
 * document `release-1.28` (every generated model file says so in its header, and the client's compatibility matrix
 * marks 0.20.x as the exact match for 1.28). Each model carries its fields and their types at run time
 * (`attributeTypeMap`) and its required fields in its type declaration (`'name': string;` against `'image'?: string;`).
 * Validation is strict, as `kubectl --validate=strict` is: an unknown field is an error. On top of the schema, the
 * checks the API server makes that the OpenAPI document cannot express and that the library's inputs reach: object,
 * container and volume names, ConfigMap keys, env names, label values and resource quantities.
 */
import * as fs from 'fs';
import * as path from 'path';

interface Attribute {
  readonly name: string;
  readonly baseName: string;
  readonly type: string;
}

const MODEL_DIR = path.join(path.dirname(require.resolve('@kubernetes/client-node/package.json')), 'dist', 'gen', 'model');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MODELS: Record<string, { attributeTypeMap?: Attribute[] }> = require(path.join(MODEL_DIR, 'models'));

/** The Kubernetes version of the schema, read from the generated files' header. */
export const SCHEMA_KUBERNETES_VERSION = (() => {
  const header = fs.readFileSync(path.join(MODEL_DIR, 'v1PodSpec.d.ts'), 'utf8');
  const m = /The version of the OpenAPI document: release-(\d+\.\d+)/.exec(header);
  if (!m) {
    throw new Error('cannot read the Kubernetes version of @kubernetes/client-node\'s models');
  }
  return m[1];
})();

const requiredCache = new Map<string, Set<string>>();

/** Required fields of a model, from its declaration file. */
function requiredOf(model: string): Set<string> {
  let required = requiredCache.get(model);
  if (!required) {
    const file = path.join(MODEL_DIR, `${model[0].toLowerCase()}${model.slice(1)}.d.ts`);
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    required = new Set([...text.matchAll(/^\s+'([^']+)':/gm)].map(m => m[1]));
    requiredCache.set(model, required);
  }
  return required;
}

function attributesOf(model: string): Attribute[] | undefined {
  return MODELS[model]?.attributeTypeMap;
}

/** The model of a top-level object: `v1/ConfigMap` is V1ConfigMap, `batch/v1/CronJob` is V1CronJob. */
export function modelOf(apiVersion: string, kind: string): string | undefined {
  const version = apiVersion.split('/').pop() ?? '';
  const model = `${version[0]?.toUpperCase()}${version.slice(1)}${kind}`;
  return attributesOf(model) ? model : undefined;
}

/** Checks one value against a type of the schema; pushes `path: problem` lines. */
function checkType(type: string, value: unknown, at: string, errors: string[]): void {
  if (value === null || value === undefined) {
    return; // omitted fields are fine; required ones are checked by the parent
  }
  const array = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) {
      errors.push(`${at}: expected an array, got ${JSON.stringify(value)}`);
      return;
    }
    value.forEach((v, i) => checkType(array[1], v, `${at}[${i}]`, errors));
  } else if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      errors.push(`${at}: expected a map, got ${JSON.stringify(value)}`);
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      checkType(map[1], v, `${at}.${k}`, errors);
    }
  } else if (type === 'string' || type === 'Date') {
    if (typeof value !== 'string') {
      errors.push(`${at}: expected a string, got ${JSON.stringify(value)}`);
    }
  } else if (type === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      errors.push(`${at}: expected a number, got ${JSON.stringify(value)}`);
    }
  } else if (type === 'boolean') {
    if (typeof value !== 'boolean') {
      errors.push(`${at}: expected a boolean, got ${JSON.stringify(value)}`);
    }
  } else if (type === 'IntOrString') {
    if (!(typeof value === 'string' || Number.isInteger(value))) {
      errors.push(`${at}: expected an integer or a string, got ${JSON.stringify(value)}`);
    }
  } else if (type === 'object' || type === 'any') {
    // free-form
  } else {
    checkModel(type, value, at, errors);
  }
}

function checkModel(model: string, value: unknown, at: string, errors: string[]): void {
  const attributes = attributesOf(model);
  if (!attributes) {
    errors.push(`${at}: the schema has no type ${model}`);
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${at}: expected an object (${model}), got ${JSON.stringify(value)}`);
    return;
  }
  const byName = new Map(attributes.map(a => [a.baseName, a]));
  for (const [key, v] of Object.entries(value)) {
    const attribute = byName.get(key);
    if (!attribute) {
      errors.push(`${at}.${key}: unknown field (${model} has no field '${key}')`);
      continue;
    }
    checkType(attribute.type, v, `${at}.${key}`, errors);
  }
  for (const name of requiredOf(model)) {
    const attribute = attributes.find(a => a.name === name);
    if (attribute && (value as Record<string, unknown>)[attribute.baseName] === undefined) {
      errors.push(`${at}.${attribute.baseName}: required field missing (${model})`);
    }
  }
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** API server checks beyond the OpenAPI document, for the fields the library fills. */
function apiServerChecks(object: any, errors: string[]): void {
  const name = object.metadata?.name;
  if (typeof name !== 'string' || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    errors.push(`metadata.name: must be a DNS-1123 subdomain, got ${JSON.stringify(name)}`);
  }
  for (const [k, v] of Object.entries<any>(object.metadata?.labels ?? {})) {
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      errors.push(`metadata.labels.${k}: invalid label value ${JSON.stringify(v)}`);
    }
  }
  if (object.kind === 'ConfigMap' || object.kind === 'Secret') {
    for (const key of Object.keys({ ...object.data, ...object.binaryData })) {
      if (key.length > 253 || !CONFIG_KEY.test(key)) {
        errors.push(`data.${key}: invalid key`);
      }
    }
  }
  if (object.kind === 'CronJob' && object.metadata?.name?.length > 52) {
    errors.push('metadata.name: a CronJob name must be at most 52 characters');
  }
  if (object.kind === 'PersistentVolumeClaim') {
    const storage = object.spec?.resources?.requests?.storage;
    if (typeof storage !== 'string' || !QUANTITY.test(storage)) {
      errors.push(`spec.resources.requests.storage: invalid quantity ${JSON.stringify(storage)}`);
    }
    const sc = object.spec?.storageClassName;
    if (sc !== undefined && !(typeof sc === 'string' && sc.length <= 253 && DNS1123_SUBDOMAIN.test(sc))) {
      errors.push(`spec.storageClassName: must be a DNS-1123 subdomain, got ${JSON.stringify(sc)}`);
    }
  }
  for (const { spec, at } of podSpecsOf(object)) {
    for (const volume of spec.volumes ?? []) {
      if (!DNS1123_LABEL.test(volume.name ?? '') || volume.name.length > 63) {
        errors.push(`${at}.volumes: invalid volume name ${JSON.stringify(volume.name)}`);
      }
      if (volume.emptyDir?.sizeLimit !== undefined && !QUANTITY.test(String(volume.emptyDir.sizeLimit))) {
        errors.push(`${at}.volumes.${volume.name}.emptyDir.sizeLimit: invalid quantity ${JSON.stringify(volume.emptyDir.sizeLimit)}`);
      }
    }
    const volumeNames = new Set((spec.volumes ?? []).map((v: any) => v.name));
    for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      const c = `${at}.containers.${container.name}`;
      if (!DNS1123_LABEL.test(container.name ?? '') || container.name.length > 63) {
        errors.push(`${c}: invalid container name`);
      }
      for (const env of container.env ?? []) {
        if (!ENV_NAME.test(env.name ?? '')) {
          errors.push(`${c}.env: invalid name ${JSON.stringify(env.name)}`);
        }
      }
      for (const mount of container.volumeMounts ?? []) {
        if (!volumeNames.has(mount.name)) {
          errors.push(`${c}.volumeMounts: no volume named ${JSON.stringify(mount.name)}`);
        }
      }
      for (const kind of ['requests', 'limits']) {
        for (const [k, v] of Object.entries<any>(container.resources?.[kind] ?? {})) {
          if (!QUANTITY.test(String(v))) {
            errors.push(`${c}.resources.${kind}.${k}: invalid quantity ${JSON.stringify(v)}`);
          }
        }
      }
    }
  }
}

/** Every pod spec in an object: a Pod's own, a Job's or a CronJob's template, a workload's template. */
export function podSpecsOf(object: any): Array<{ spec: any; at: string }> {
  switch (object.kind) {
    case 'Pod': return [{ spec: object.spec, at: 'spec' }];
    case 'CronJob': return [{ spec: object.spec?.jobTemplate?.spec?.template?.spec, at: 'spec.jobTemplate.spec.template.spec' }];
    case 'Job':
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet': return [{ spec: object.spec?.template?.spec, at: 'spec.template.spec' }];
    default: return [];
  }
}

/**
 * The problems of one object against the Kubernetes 1.28 schema (strict) and the API server's name and quantity rules;
 * empty when it is valid. An object of a kind the schema does not know (a custom resource) is one problem.
 */
export function validateObject(object: any): string[] {
  const errors: string[] = [];
  if (typeof object?.apiVersion !== 'string' || typeof object?.kind !== 'string') {
    return [`object without apiVersion and kind: ${JSON.stringify(object)?.slice(0, 200)}`];
  }
  const model = modelOf(object.apiVersion, object.kind);
  if (!model) {
    return [`${object.apiVersion}/${object.kind}: not a Kubernetes ${SCHEMA_KUBERNETES_VERSION} kind`];
  }
  checkModel(model, object, `${object.kind}/${object.metadata?.name}`, errors);
  apiServerChecks(object, errors);
  return errors;
}

/** The problems of every object, each prefixed with the object's kind and name. */
export function validateAll(objects: any[]): string[] {
  return objects.flatMap(o => validateObject(o).map(e => (e.startsWith(`${o.kind}/`) ? e : `${o.kind}/${o.metadata?.name}: ${e}`)));
}
