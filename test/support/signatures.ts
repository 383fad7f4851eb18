import fc from 'fast-check';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Other spellings of the same signature bytes, each of which Buffer.from(sig, 'base64url') decodes alike. */
export function respellings(sig: string): string[] {
  const last = BASE64URL.indexOf(sig.at(-1)!);
  return [
    // The last of 43 characters carries 4 bits of the MAC and 2 spare ones.
    ...[1, 2, 3].map((spare) => sig.slice(0, -1) + BASE64URL[last ^ spare]),
    `${sig}=`,
    `${sig}==`,
    `${sig}!!`,
    `${sig.slice(0, 10)}.${sig.slice(10)}`,
    ` ${sig}`,
    sig.replaceAll('-', '+').replaceAll('_', '/'),
    `${sig.replaceAll('-', '+').replaceAll('_', '/')}=`,
  ];
}

/**
 * Strings near a signature (a few characters cut, inserted or replaced, from base64 and the characters
 * lenient decoders skip) and arbitrary ones; `fc.pre` drops the signature itself.
 */
export function nearSignatures(sig: string): fc.Arbitrary<string> {
  const near = fc
    .tuple(
      fc.nat({ max: sig.length }),
      fc.nat({ max: 2 }),
      fc.string({ maxLength: 3, unit: fc.constantFrom(...BASE64URL, '=', '.', '!', '+', '/', ' ', '%') }),
    )
    .map(([at, cut, insert]) => sig.slice(0, at) + insert + sig.slice(at + cut));
  return fc.oneof(near, fc.string({ maxLength: 64 }));
}
