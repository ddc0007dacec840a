// deploy/kubernetes, checked without a cluster (none runs here; docs/kubernetes.md):
// every overlay (and the base) is rendered with `kubectl kustomize`, every object is
// validated against the Kubernetes OpenAPI schema of its kind (kubernetes-models, generated
// from the official specification; the ServiceMonitor against prometheus-operator's CRD
// schema), and our own rules hold: the api role meets Pod Security "restricted", every
// container has requests, limits and probes, images carry a fixed tag, the sandbox gets
// no network, and references between objects resolve.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const kustomizations = ['base', 'overlays/demo', 'overlays/production'];

function render(path) {
  const text = execFileSync('kubectl', ['kustomize', join(root, 'deploy/kubernetes', path)], {
    encoding: 'utf8',
  });
  return parseAllDocuments(text).map((doc) => {
    assert.equal(doc.errors.length, 0, `${path}: ${doc.errors.join('; ')}`);
    const object = doc.toJS();
    // kustomize wraps long base64 values over lines; the API server's decoder skips the
    // newlines, the schema's "byte" format does not.
    if (object.kind === 'Secret') {
      for (const key of Object.keys(object.data ?? {})) object.data[key] = object.data[key].replace(/\s+/g, '');
    }
    return object;
  });
}

async function modelFor(object) {
  const [group, version] = object.apiVersion.includes('/')
    ? object.apiVersion.split('/')
    : ['', object.apiVersion];
  if (group === 'monitoring.coreos.com') {
    return (await import(`@kubernetes-models/prometheus-operator/${group}/${version}/${object.kind}`))[object.kind];
  }
  const module = await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`);
  return module[object.kind];
}

// Schema errors of one object, as a string ('' when valid).
async function schemaErrors(object) {
  let Model;
  try {
    Model = await modelFor(object);
  } catch {
    return `no schema for ${object.apiVersion} ${object.kind}`;
  }
  try {
    new Model(object).validate();
    return '';
  } catch (error) {
    return error.message;
  }
}

// Settings the server knows, as their INTEGR8SCODE_* variable names (docs/operations.md
// documents every key as `section.key`; the server refuses an unknown variable at start).
const kSettings = new Set(
  [...readFileSync(join(root, 'docs/operations.md'), 'utf8').matchAll(/`([a-z_]+(?:\.[a-z_]+)+)`/g)]
    .map((m) => `INTEGR8SCODE_${m[1].replaceAll('.', '_').toUpperCase()}`));

const name = (o) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const podSpecOf = (o) => o.spec?.template?.spec;
const workloads = (objects) => objects.filter((o) => podSpecOf(o));

// Our own rules; returns a list of violations.
function ruleViolations(objects, { externalSecrets = [] } = {}) {
  const problems = [];
  const exists = (kind, namespace, objName) =>
    objects.some((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === objName);
  for (const workload of workloads(objects)) {
    const pod = podSpecOf(workload);
    const ns = workload.metadata.namespace;
    if (!ns) problems.push(`${name(workload)}: no namespace`);
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${name(workload)}: shares a host namespace`);
    if (pod.automountServiceAccountToken !== false) problems.push(`${name(workload)}: mounts a service account token`);
    for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
      const where = `${name(workload)} container ${container.name}`;
      const image = container.image ?? '';
      const tag = image.includes('@') ? 'digest' : image.split('/').pop().split(':')[1];
      if (!tag || tag === 'latest') problems.push(`${where}: image ${image} has no fixed tag`);
      for (const kind of ['requests', 'limits']) {
        for (const resource of ['cpu', 'memory']) {
          if (!container.resources?.[kind]?.[resource]) problems.push(`${where}: no ${resource} ${kind}`);
        }
      }
      if (!container.livenessProbe) problems.push(`${where}: no liveness probe`);
      if (!container.readinessProbe) problems.push(`${where}: no readiness probe`);
      for (const source of container.envFrom ?? []) {
        const ref = source.configMapRef ?? source.secretRef;
        const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
        if (!exists(kind, ns, ref.name) && !(kind === 'Secret' && externalSecrets.includes(ref.name))) {
          problems.push(`${where}: ${kind} ${ns}/${ref.name} does not exist`);
        }
      }
    }
    if (workload.spec.template.metadata?.annotations?.['prometheus.io/scrape'] !== 'true' &&
        workload.metadata.labels?.['app.kubernetes.io/name'] === 'integr8scode') {
      problems.push(`${name(workload)}: no prometheus.io/scrape annotation`);
    }
  }
  // The api role: Pod Security Standard "restricted", and a read-only root filesystem.
  const api = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'integr8scode-api');
  if (!api) {
    problems.push('no api Deployment');
  } else {
    const pod = podSpecOf(api);
    if (pod.securityContext?.runAsNonRoot !== true) problems.push('api: pod runAsNonRoot is not true');
    if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push('api: pod seccomp is not RuntimeDefault');
    for (const c of pod.containers) {
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false) problems.push(`api ${c.name}: allowPrivilegeEscalation is not false`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`api ${c.name}: root filesystem is writable`);
      if (sc.privileged) problems.push(`api ${c.name}: privileged`);
      if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]') problems.push(`api ${c.name}: does not drop ALL capabilities`);
      if (sc.capabilities?.add?.length) problems.push(`api ${c.name}: adds capabilities`);
      if ((sc.runAsUser ?? pod.securityContext?.runAsUser) === 0) problems.push(`api ${c.name}: runs as root`);
    }
    if ((pod.volumes ?? []).some((v) => v.hostPath)) problems.push('api: mounts a host path');
    const ns = objects.find((o) => o.kind === 'Namespace' && o.metadata.name === api.metadata.namespace);
    if (ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted') {
      problems.push(`api: namespace ${api.metadata.namespace} does not enforce restricted`);
    }
    for (const kind of ['Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']) {
      if (!exists(kind, api.metadata.namespace, 'integr8scode-api')) problems.push(`api: no ${kind}`);
    }
  }
  // Workers: in a namespace labelled privileged (nothing below admits SYS_ADMIN).
  const worker = workloads(objects).find((o) => o.metadata.name === 'integr8scode-worker');
  if (!worker) {
    problems.push('no worker');
  } else {
    const ns = objects.find((o) => o.kind === 'Namespace' && o.metadata.name === worker.metadata.namespace);
    if (ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'] !== 'privileged') {
      problems.push(`worker: namespace ${worker.metadata.namespace} is not labelled privileged`);
    }
  }
  // Network: in every namespace with workloads, a default deny and a deny-all for execution pods.
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  for (const ns of new Set(workloads(objects).map((o) => o.metadata.namespace))) {
    const here = policies.filter((p) => p.metadata.namespace === ns);
    if (!here.some((p) => Object.keys(p.spec.podSelector ?? {}).length === 0 && !p.spec.ingress && !p.spec.egress &&
                          p.spec.policyTypes?.includes('Ingress') && p.spec.policyTypes?.includes('Egress'))) {
      problems.push(`namespace ${ns}: no default-deny NetworkPolicy`);
    }
    if (!here.some((p) => p.spec.podSelector?.matchExpressions?.some(
      (e) => e.key === 'integr8scode.io/execution' && e.operator === 'Exists') &&
      !p.spec.ingress && !p.spec.egress && p.spec.policyTypes?.length === 2)) {
      problems.push(`namespace ${ns}: execution pods are not denied all traffic`);
    }
  }
  for (const object of objects.filter((o) => o.kind === 'ConfigMap' || o.kind === 'Secret')) {
    for (const key of Object.keys({ ...object.data, ...object.stringData })) {
      if (key.startsWith('INTEGR8SCODE_') && !kSettings.has(key)) {
        problems.push(`${name(object)}: ${key} is not a setting of docs/operations.md`);
      }
    }
  }
  for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const target = hpa.spec.scaleTargetRef;
    if (!exists(target.kind, hpa.metadata.namespace, target.name)) problems.push(`${name(hpa)}: target missing`);
  }
  return problems;
}

for (const path of kustomizations) {
  describe(`deploy/kubernetes/${path}`, () => {
    const objects = render(path);
    const external = path === 'overlays/production' || path === 'base' ? ['integr8scode-secrets'] : [];

    it('renders objects, each valid against the schema of its kind', async () => {
      assert.ok(objects.length > 10, `only ${objects.length} objects`);
      const errors = [];
      for (const object of objects) {
        const error = await schemaErrors(object);
        if (error) errors.push(`${name(object)}: ${error}`);
      }
      assert.deepEqual(errors, []);
    });

    it('follows our rules (restricted api, resources, probes, tags, network)', () => {
      assert.deepEqual(ruleViolations(objects, { externalSecrets: external }), []);
    });

    if (path === 'overlays/demo') {
      it('runs PostgreSQL as a StatefulSet and hands its URL to both roles by Secret', () => {
        assert.ok(objects.some((o) => o.kind === 'StatefulSet' && o.metadata.name === 'postgres'));
        const secrets = objects.filter((o) => o.kind === 'Secret' && o.metadata.name.startsWith('integr8scode-secrets'));
        assert.deepEqual(secrets.map((s) => s.metadata.namespace).sort(), ['integr8scode', 'integr8scode-sandbox']);
        for (const s of secrets) assert.ok(s.data.INTEGR8SCODE_DATABASE_URL);
      });
    }
    if (path === 'overlays/production') {
      it('has no database of its own and a ServiceMonitor', () => {
        assert.ok(!objects.some((o) => o.kind === 'StatefulSet'));
        assert.ok(objects.some((o) => o.kind === 'ServiceMonitor'));
      });
    }
  });
}

// The checks can fail: broken copies of the demo overlay are refused.
describe('the checks themselves', () => {
  const objects = render('overlays/demo');
  const copy = () => structuredClone(objects);
  const apiOf = (list) => list.find((o) => o.metadata.name === 'integr8scode-api' && o.kind === 'Deployment');

  it('refuse a schema error', async () => {
    const broken = apiOf(copy());
    broken.spec.replicas = 'two';
    assert.match(await schemaErrors(broken), /replicas must be integer/);
  });
  it('refuse an api that may escalate, a latest tag, a missing limit and an open sandbox', () => {
    const list = copy();
    const api = apiOf(list);
    api.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
    api.spec.template.spec.containers[0].image = 'integr8scode:latest';
    delete api.spec.template.spec.containers[0].resources.limits.memory;
    const open = list.filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === 'deny-executions'));
    open.find((o) => o.kind === 'ConfigMap').data.INTEGR8SCODE_SERVER_LISTN = '0.0.0.0:8080';
    const problems = ruleViolations(open).join('\n');
    for (const expected of [/allowPrivilegeEscalation/, /no fixed tag/, /no memory limits/, /execution pods are not denied/,
                            /INTEGR8SCODE_SERVER_LISTN is not a setting/]) {
      assert.match(problems, expected);
    }
  });
});
