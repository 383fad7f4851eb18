import { expect } from 'chai';
import type { Region } from '../../shared/contract/api-contract.js';
import { centreLargestValue, pickFace } from '../../worker/detection/face-select.js';

const image = { width: 1000, height: 600 };
interface Face {
  name: string;
  region: Region;
  usability: number;
}
const usability = (f: Face) => f.usability;

describe('face_select rules', () => {
  it('when the centre value is computed, then it is area − 2·(distance to the image centre)² in pixels', () => {
    // Centre (550, 340): 50 px and 40 px from (500, 300).
    expect(centreLargestValue([500, 290, 100, 100], 1000, 600)).to.equal(10_000 - 2 * (50 ** 2 + 40 ** 2));
    expect(centreLargestValue([450, 250, 100, 100], 1000, 600)).to.equal(10_000);
  });

  const edge: Face = { name: 'edge', region: [0, 0, 200, 200], usability: 0.5 };
  const middle: Face = { name: 'middle', region: [440, 240, 120, 120], usability: 0.9 };
  const small: Face = { name: 'small', region: [480, 280, 40, 40], usability: 0.6 };
  const faces = [edge, middle, small];

  it('when the rule is largest, then the largest face is kept, wherever it is', () => {
    expect(pickFace(faces, 'largest', image, usability)?.name).to.equal('edge');
  });

  it('when the rule is center_largest, then a smaller face at the centre beats a larger one at the edge', () => {
    // edge: 40000 − 2·(400² + 200²) < 0; middle: 14400 − 0.
    expect(pickFace(faces, 'center_largest', image, usability)?.name).to.equal('middle');
    const huge: Face = { name: 'huge', region: [300, 100, 400, 400], usability: 0.1 };
    expect(pickFace([middle, huge], 'center_largest', image, usability)?.name).to.equal('huge');
  });

  it('when the rule is best, then the most usable face is kept whatever its size', () => {
    expect(pickFace(faces, 'best', image, usability)?.name).to.equal('middle');
  });

  it('when two faces tie, then the earlier one is kept, and no face gives none', () => {
    const twin: Face = { ...edge, name: 'twin' };
    expect(pickFace([edge, twin], 'largest', image, usability)?.name).to.equal('edge');
    expect(pickFace([], 'best', image, usability)).to.equal(undefined);
  });
});
