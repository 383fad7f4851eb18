import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

/**
 * The Kubernetes manifests under deploy/kubernetes, read and checked the two ways a typo can hide: against
 * the API schemas (`validate()`: types, required fields, enums), and against the models' TypeScript types,
 * whose excess-property check catches a misspelt field name, which the schemas allow.
 */

export const MANIFESTS = path.resolve('deploy/kubernetes');

export interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

interface Model {
  validate(): void;
}

/** Each kind the manifests use: its model class and the TypeScript type its module exports. */
const MODELS: Record<string, { create: (doc: object) => Model; type: string; module: string }> = {
  'apps/v1/Deployment': {
    create: (d) => new Deployment(d),
    type: 'IDeployment',
    module: 'kubernetes-models/apps/v1/Deployment',
  },
  'v1/Service': {
    create: (d) => new Service(d),
    type: 'IService',
    module: 'kubernetes-models/v1/Service',
  },
  'v1/ConfigMap': {
    create: (d) => new ConfigMap(d),
    type: 'IConfigMap',
    module: 'kubernetes-models/v1/ConfigMap',
  },
  'policy/v1/PodDisruptionBudget': {
    create: (d) => new PodDisruptionBudget(d),
    type: 'IPodDisruptionBudget',
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
  },
  'keda.sh/v1alpha1/ScaledObject': {
    create: (d) => new ScaledObject(d as ConstructorParameters<typeof ScaledObject>[0]),
    type: 'IScaledObject',
    module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
  },
};

export function readYaml(file: string): Manifest[] {
  const docs = parseAllDocuments(readFileSync(path.join(MANIFESTS, file), 'utf8'));
  return docs.map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return { ...(doc.toJS() as Omit<Manifest, 'file'>), file } as Manifest;
  });
}

/** Problems `validate()` finds, one line per manifest that has some. */
export function schemaProblems(manifests: Manifest[]): string[] {
  return manifests.flatMap(({ file, ...doc }) => {
    const model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    if (!model) return [`${file}: no model for ${doc.apiVersion} ${doc.kind}`];
    try {
      model.create(doc).validate();
      return [];
    } catch (err) {
      return [`${file} (${doc.kind}): ${(err as Error).message}`];
    }
  });
}

/** Type errors of the manifests as object literals of their models' types, each naming its file. */
export function typeProblems(manifests: Manifest[]): string[] {
  const source = path.resolve('test/.kubernetes-manifests-check.ts');
  const kinds = [...new Set(manifests.map((m) => `${m.apiVersion}/${m.kind}`))].filter((k) => MODELS[k]);
  const lines = [
    ...kinds.map((k) => `import type { ${MODELS[k]!.type} } from '${MODELS[k]!.module}';`),
    ...manifests.map(({ file, ...doc }, i) => {
      const model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      return model ? `export const m${i}: ${model.type} = ${JSON.stringify(doc)}; // ${file}` : '';
    }),
  ];
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === source ? lines.join('\n') : readFile(name));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === source || fileExists(name);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version) =>
    path.resolve(name) === source
      ? ts.createSourceFile(name, lines.join('\n'), version)
      : getSourceFile(name, version);
  const program = ts.createProgram([source], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(source)).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const file = /\/\/ (\S+)$/.exec(lines[line] ?? '')?.[1] ?? 'manifest';
    return `${file}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}
