import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { z } from 'zod';
import { loadConfig } from '../../shared/config/config.js';
import { envSchema } from '../../shared/config/env-schema.js';
import { QUEUES } from '../../shared/contract/detect-job.contract.js';
import {
  MANIFESTS,
  readYaml,
  schemaProblems,
  typeProblems,
  type Manifest,
} from '../support/kubernetes-manifests.js';

/** The fields of kustomization.yaml the tests read. */
const kustomizationSchema = z.looseObject({
  resources: z.array(z.string()),
  secretGenerator: z.array(z.looseObject({ name: z.string(), envs: z.array(z.string()) })).min(1),
});
const configMapSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string() }),
  data: z.record(z.string(), z.string()),
});

const kustomization = kustomizationSchema.parse(readYaml('kustomization.yaml')[0]);
const manifests = kustomization.resources.flatMap(readYaml);
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const deployment = (component: string) =>
  byKind('Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === component) as any;
const gateway = deployment('gateway');
const worker = deployment('worker');
const container = (d: any) => d.spec.template.spec.containers[0];
const configMap = configMapSchema.parse(byKind('ConfigMap')[0]);
const secret = kustomization.secretGenerator[0]!;
const secretKeys = readFileSync(path.join(MANIFESTS, 'secret.env.example'), 'utf8')
  .split('\n')
  .filter((line) => /^[A-Z]/.test(line))
  .map((line) => line.split('=')[0]!);

/** The configuration the pods get, with the Secret's template filled in. */
const podConfig = () =>
  loadConfig({ ...configMap.data, ...Object.fromEntries(secretKeys.map((k) => [k, 'x'.repeat(32)])) });

/** `512Mi`, `1Gi` in MiB. */
const mib = (quantity: string) => Number.parseInt(quantity, 10) * (quantity.endsWith('Gi') ? 1024 : 1);

/** A figure of the benchmark's table in BENCHMARKS.md, by the start of its row. */
function benchmarkMib(row: string): number {
  const line = readFileSync('BENCHMARKS.md', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`| ${row}`));
  return Number(/\| (\d+) MiB/.exec(line ?? '')?.[1]);
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('when the kustomization is read, then it lists every manifest of the folder and each one exists', () => {
    const yamls = readdirSync(MANIFESTS).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).to.deep.equal(yamls.sort());
    expect(secret.envs).to.deep.equal(['secret.env']);
    expect(existsSync(path.join(MANIFESTS, 'secret.env.example'))).to.equal(true);
  });

  it('when each manifest is validated against the Kubernetes and KEDA schemas, then none fails', () => {
    expect(manifests.map((m) => m.kind).sort()).to.deep.equal([
      'ConfigMap',
      'Deployment',
      'Deployment',
      'PodDisruptionBudget',
      'ScaledObject',
      'Service',
    ]);
    expect(schemaProblems(manifests)).to.deep.equal([]);
    const broken = { ...worker, spec: { ...worker.spec, replicas: 'two' } } as Manifest;
    expect(schemaProblems([broken]).join('\n')).to.include('worker-deployment.yaml (Deployment)');
  });

  it('when a manifest has a misspelt field, then the type check names it, as it finds none in the real ones', function () {
    this.timeout(60_000);
    const typo = { ...gateway, spec: { ...gateway.spec, replica: 2 } } as Manifest;
    const wrongType = { ...worker, spec: { ...worker.spec, replicas: 'two' } } as Manifest;
    const problems = typeProblems([...manifests, typo, wrongType]);
    expect(problems.filter((p) => !p.includes('"replica"') && !p.includes("'string'"))).to.deep.equal([]);
    expect(problems.join('\n')).to.include(`'"replica"' does not exist`);
    expect(problems.join('\n')).to.include("Type 'string' is not assignable to type 'number'");
  });

  it('when names, labels, selectors and ports are compared, then Deployments, Service, PDB and ScaledObject agree', () => {
    for (const d of [gateway, worker]) {
      expect(d.spec.template.metadata.labels).to.deep.include(d.spec.selector.matchLabels);
      expect(container(d).envFrom).to.deep.equal([
        { configMapRef: { name: configMap.metadata.name } },
        { secretRef: { name: secret.name } },
      ]);
    }
    const service = byKind('Service')[0] as any;
    expect(service.spec.selector).to.deep.equal(gateway.spec.selector.matchLabels);
    const gatewayPorts = container(gateway).ports.map((p: any) => p.name);
    for (const port of service.spec.ports) expect(gatewayPorts).to.include(port.targetPort);
    expect(
      service.spec.ports.map((p: any) => p.targetPort),
      'metrics stay off the Service',
    ).to.deep.equal(['http']);
    const pdb = byKind('PodDisruptionBudget')[0] as any;
    expect(pdb.spec.selector.matchLabels).to.deep.equal(gateway.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).to.be.below(gateway.spec.replicas);
    const scaled = byKind('ScaledObject')[0] as any;
    expect(scaled.spec.scaleTargetRef.name).to.equal(worker.metadata.name);
    const queries = scaled.spec.triggers.map((t: any) => t.metadata.query as string);
    for (const queue of Object.values(QUEUES))
      expect(
        queries.some((q: string) => q.includes(`queue="${queue}"`) && q.includes('prioritized')),
      ).to.equal(true);
  });

  it('when probes and ports are read, then they point at /healthz and /readyz on ports the configuration opens', () => {
    const probes = (c: any) => [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean);
    const g = container(gateway);
    expect(g.readinessProbe.httpGet).to.deep.equal({ path: '/readyz', port: 'http' });
    expect(g.livenessProbe.httpGet).to.deep.equal({ path: '/healthz', port: 'http' });
    for (const probe of probes(container(worker)))
      expect(probe.httpGet).to.deep.equal({ path: '/healthz', port: 'metrics' });
    const portOf = (c: any, name: string) => c.ports.find((p: any) => p.name === name).containerPort;
    expect(String(portOf(g, 'metrics'))).to.equal(configMap.data.GATEWAY_METRICS_PORT);
    expect(String(portOf(container(worker), 'metrics'))).to.equal(configMap.data.WORKER_METRICS_PORT);
    expect(gateway.spec.template.metadata.annotations['prometheus.io/port']).to.equal(
      configMap.data.GATEWAY_METRICS_PORT,
    );
  });

  it('when the grace periods are read, then they outlast the drain: a synchronous wait after preStop, the longest video job', () => {
    const preStop = Number(container(gateway).lifecycle.preStop.exec.command[1]);
    const config = podConfig();
    expect(gateway.spec.template.spec.terminationGracePeriodSeconds).to.be.at.least(
      preStop + config.jobs.syncTimeoutMs / 1000,
    );
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).to.be.at.least(
      config.video.jobTimeoutMs / 1000,
    );
  });

  it("when resources are read, then the limits cover the benchmark's peak memory and inference threads match the CPU limit", () => {
    expect(mib(container(worker).resources.limits.memory)).to.be.above(
      benchmarkMib('Peak RSS, worker (1 inference thread)'),
    );
    expect(mib(container(gateway).resources.limits.memory)).to.be.above(benchmarkMib('Peak RSS, gateway'));
    expect(container(worker).resources.limits.cpu).to.equal(configMap.data.INFERENCE_THREADS);
  });

  it('when the ConfigMap and the Secret template are read, then every key is a variable of the service and the values pass its validation', () => {
    const known = Object.keys(envSchema.shape);
    expect([...Object.keys(configMap.data), ...secretKeys].filter((k) => !known.includes(k))).to.deep.equal(
      [],
    );
    expect(podConfig).to.not.throw();
  });
});
