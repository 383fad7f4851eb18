import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ModelError } from '../../shared/errors/errors.js';
import type { SessionSettings } from './inference-protocol.js';

/**
 * onnxruntime-node ships the CPU provider only; its install script fetches the CUDA provider when asked
 * (`npm ci --onnxruntime-node-install=cuda12`), next to the binding. Without that library a CUDA session
 * fails with a bare "Failed to load shared library", so the worker refuses to start with what is missing
 * instead, and never falls back to the CPU: a deployment that asked for a GPU would silently run slow.
 */
export function assertProviderAvailable(settings: SessionSettings): void {
  if (settings.provider !== 'cuda') return;
  const library = cudaProviderLibrary();
  if (existsSync(library)) return;
  throw new ModelError(
    `INFERENCE_PROVIDER=cuda, but onnxruntime-node's CUDA provider is not installed (${library} is missing). ` +
      'Install it with `npm ci --onnxruntime-node-install=cuda12` on a host with the CUDA 12 runtime and cuDNN 9 ' +
      '(or build the Docker image with --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12), or set INFERENCE_PROVIDER=cpu.',
  );
}

function cudaProviderLibrary(): string {
  const binding = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
  return path.join(
    binding,
    '..',
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
    'libonnxruntime_providers_cuda.so',
  );
}
