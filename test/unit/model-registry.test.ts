import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../shared/config/config.js';
import { DETECTOR_FAMILIES } from '../../shared/detectors/detector-families.js';
import { MODELS } from '../../shared/detectors/model-registry.js';

describe('model registry and MODEL_NAME', () => {
  it('when MODEL_NAME is unset, then YuNet-n from MODELS_DIR runs on the CPU', () => {
    const { detector } = loadConfig({});
    expect(detector).to.include({ modelName: 'yunet_n', family: 'yunet' });
    expect(detector.modelPath).to.equal(path.resolve('models', 'yunet_n_dynamic.onnx'));
    expect(detector.session).to.deep.equal({
      provider: 'cpu',
      graphOptimizationLevel: 'all',
      intraOpThreads: 1,
    });
    expect(detector.band).to.deep.equal(DETECTOR_FAMILIES.yunet.band);
  });

  it('when MODEL_NAME names a research SCRFD model, then it is read in place from SHARED_DIR/models', () => {
    const { detector } = loadConfig({ MODEL_NAME: 'scrfd_2.5g', SHARED_DIR: '/srv/shared' });
    expect(detector).to.include({ family: 'scrfd', modelPath: '/srv/shared/models/scrfd_2.5g_kps.onnx' });
    expect(detector.band).to.deep.equal(DETECTOR_FAMILIES.scrfd.band);
  });

  it('when MODEL_NAME is a family without MODEL_FILE, then the error names MODEL_FILE', () => {
    expect(() => loadConfig({ MODEL_NAME: 'scrfd' })).to.throw(ConfigError, 'MODEL_FILE');
  });

  it("when MODEL_NAME is a family with MODEL_FILE, then the user's file runs as that family", () => {
    const { detector } = loadConfig({ MODEL_NAME: 'scrfd', MODEL_FILE: '/opt/det_10g.onnx' });
    expect(detector).to.include({ family: 'scrfd', modelPath: '/opt/det_10g.onnx' });
  });

  it('when MODEL_NAME is unknown, then the error lists every choice', () => {
    expect(() => loadConfig({ MODEL_NAME: 'retinaface' })).to.throw(
      ConfigError,
      /MODEL_NAME="retinaface".*yunet_n, yunet_s, scrfd_500m, scrfd_2\.5g, yunet, scrfd/,
    );
  });

  it('when INFERENCE_PROVIDER is neither cpu nor cuda, then the error names it', () => {
    expect(() => loadConfig({ INFERENCE_PROVIDER: 'tpu' })).to.throw(ConfigError, 'INFERENCE_PROVIDER="tpu"');
    expect(loadConfig({ INFERENCE_PROVIDER: 'cuda' }).detector.session.provider).to.equal('cuda');
  });

  it('when models ship, then they are exactly the manifest rows that npm run models installs, never a research one', () => {
    const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8')) as {
      models: { name: string; file: string }[];
    };
    const shipped = MODELS.filter((m) => m.location === 'models');
    expect(shipped.map((m) => [m.name, m.file])).to.deep.equal(manifest.models.map((m) => [m.name, m.file]));
    expect(manifest.models.map((m) => m.file).filter((f) => f.startsWith('scrfd'))).to.deep.equal([]);
  });
});
