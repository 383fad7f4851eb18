import { expect } from 'chai';
import fc from 'fast-check';
import { CropLinkSigner } from '../../shared/storage/crop-link-signer.js';
import { nearSignatures, respellings } from '../support/signatures.js';

const SECRET = 'crop-link-signer-test-secret-0123456789';
const signer = new CropLinkSigner({ secrets: () => Promise.resolve([SECRET]), ttlS: 3600 });

/** A signed link's parts, of a key whose signature holds '-' or '_', so standard base64 spells it otherwise. */
async function signedLink(): Promise<{ key: string; exp: string; sig: string }> {
  for (let i = 0; i < 100; i++) {
    const key = `crops/2026-01-01/job/f0_${i}.jpg`;
    const query = new URL(await signer.sign(key), 'http://x').searchParams;
    const sig = query.get('sig')!;
    if (/[-_]/.test(sig)) return { key, exp: query.get('exp')!, sig };
  }
  throw new Error('no signature with - or _ in 100 keys');
}

describe('CropLinkSigner', () => {
  it('when a link is checked as signed, then it is valid', async () => {
    const { key, exp, sig } = await signedLink();
    expect(await signer.check(key, exp, sig)).to.equal('valid');
  });

  it('when the signature is spelled any other way that decodes to the same bytes, then the link is invalid', async () => {
    const { key, exp, sig } = await signedLink();
    const others = respellings(sig);
    for (const other of others) {
      expect(Buffer.from(other, 'base64url').equals(Buffer.from(sig, 'base64url')), other).to.equal(true);
      expect(other).to.not.equal(sig);
      expect(await signer.check(key, exp, other), other).to.equal('invalid');
    }
  });

  it('when the expiry is spelled with leading zeros, then the link is invalid', async () => {
    const { key, exp, sig } = await signedLink();
    for (const other of [`0${exp}`, `00${exp}`, ` ${exp}`, `${exp}.0`, `+${exp}`])
      expect(await signer.check(key, other, sig), other).to.equal('invalid');
  });

  it('when the signature is any string but the one signed, then the link is invalid', async () => {
    const { key, exp, sig } = await signedLink();
    await fc.assert(
      fc.asyncProperty(nearSignatures(sig), async (other) => {
        fc.pre(other !== sig);
        expect(await signer.check(key, exp, other)).to.equal('invalid');
      }),
      { numRuns: 2000 },
    );
  });
});
