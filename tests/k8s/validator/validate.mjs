// The stand-in cluster's schema check (tests/k8s/openapi_schema.hpp starts it once per test
// binary). The schemas are those of the npm package kubernetes-models 5.1.0 (MIT,
// github.com/tommy351/kubernetes-models-ts): ajv validators generated from the official
// Kubernetes OpenAPI specification of Kubernetes 1.34 (they know 1.34's
// PodSpec.hostnameOverride and EnvVarSource.fileKeyRef, not 1.35's PodSpec.workloadRef).
//
// Protocol, one JSON object per line each way:
//   in:  {"definition": "io.k8s.api.core.v1.Pod", "object": {...}}
//   out: {"problems": ["spec.containers[0].name: required", ...]}   ([] when it conforms)
//
// The generated validators check types, required fields, enums and formats, but keep no
// list of a struct's fields, so unknown fields (which kube-apiserver's strict decoding
// refuses) are found by watching them work: a validator reads each property its schema
// names, by name, and enumerates the keys only of maps. A key of a struct it never read
// is therefore not in the schema.
import { createInterface } from 'node:readline';

// "io.k8s.api.core.v1.Pod" → the generated module of that definition.
function moduleOf(definition) {
  const name = definition
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  const pkg = definition.startsWith('io.k8s.apimachinery.')
    ? '@kubernetes-models/apimachinery'
    : 'kubernetes-models';
  return `${pkg}/_schemas/${name}`;
}

const validators = new Map();
async function validatorOf(definition) {
  if (!validators.has(definition)) {
    validators.set(definition, (await import(moduleOf(definition))).validate);
  }
  return validators.get(definition);
}

// "/spec/containers/0/name" → "spec.containers[0].name".
function pathOf(pointer) {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^\d+$/.test(part) ? `[${part}]` : `${path ? '.' : ''}${part}`;
  }
  return path || '(root)';
}

function describe(error) {
  const path = pathOf(error.instancePath);
  switch (error.keyword) {
    case 'required':
      return `${path === '(root)' ? '' : `${path}.`}${error.params.missingProperty}: Required value`;
    case 'type':
      return `${path}: expected ${error.params.type}`;
    case 'enum':
      return `${path}: Unsupported value (allowed: ${error.params.allowedValues.join(', ')})`;
    case 'format':
      return `${path}: not a valid ${error.params.format}`;
    default:
      return `${path}: ${error.keyword} ${JSON.stringify(error.params)}`;
  }
}

// Wraps every object of `value` in a proxy that records which keys were read and
// whether its keys were enumerated; `seen` maps each proxy's path to that record.
function watched(value, path, seen) {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item, i) => watched(item, `${path}[${i}]`, seen));
  const record = { target: value, read: new Set(), enumerated: false };
  seen.set(path, record);
  const inner = {};
  for (const [key, item] of Object.entries(value)) {
    inner[key] = watched(item, path ? `${path}.${key}` : key, seen);
  }
  return new Proxy(inner, {
    get(target, key) {
      if (typeof key === 'string') record.read.add(key);
      return target[key];
    },
    ownKeys(target) {
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

async function check(definition, object) {
  let validate;
  try {
    validate = await validatorOf(definition);
  } catch {
    return [`no schema for ${definition}`];
  }
  const seen = new Map();
  const ok = validate(watched(object, '', seen));
  const problems = ok ? [] : validate.errors.map(describe);
  for (const [path, record] of seen) {
    if (record.enumerated) continue;
    for (const key of Object.keys(record.target)) {
      if (!record.read.has(key)) problems.push(`${path ? `${path}.` : ''}${key}: unknown field`);
    }
  }
  return problems;
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  let answer;
  try {
    const { definition, object } = JSON.parse(line);
    answer = { problems: await check(definition, object) };
  } catch (error) {
    answer = { problems: [`validator: ${error.message}`] };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
