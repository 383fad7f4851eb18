import { expect } from 'chai';
import { loadConfig } from '../../shared/config/config.js';
import { ModelError } from '../../shared/errors/errors.js';
import { familyThreadUrl } from '../../worker/inference/family-thread.js';
import { InferencePool } from '../../worker/inference/inference-pool.js';
import { start } from '../../worker/main.js';

describe('INFERENCE_PROVIDER=cuda without the CUDA provider', () => {
  it('when the pool starts, then it refuses with what is missing and how to install it, and starts no CPU session', async () => {
    const config = loadConfig({ INFERENCE_PROVIDER: 'cuda' });
    const err = await InferencePool.start({
      threadUrl: familyThreadUrl(config.detector.family),
      modelPath: config.detector.modelPath,
      session: config.detector.session,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ModelError);
    const message = (err as ModelError).message;
    expect(message).to.contain('libonnxruntime_providers_cuda.so');
    expect(message).to.contain('--onnxruntime-node-install=cuda12');
    expect(message).to.contain('INFERENCE_PROVIDER=cpu');
  });

  it('when the worker starts, then it stops before taking any job with the same message', async () => {
    const config = loadConfig({
      INFERENCE_PROVIDER: 'cuda',
      QUEUE_PREFIX: `cuda-${process.pid}-${Date.now()}`,
    });
    const err = await start({ config }).then(
      async (handle) => {
        await handle.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ModelError);
    expect((err as Error).message).to.contain('CUDA provider is not installed');
  });
});
