import { DETECTOR_FAMILIES, type FamilyName } from '../../shared/detectors/detector-families.js';

/** The inference thread entry of a family, for InferencePool's `threadUrl`. */
export function familyThreadUrl(family: FamilyName): URL {
  return new URL(`../${DETECTOR_FAMILIES[family].thread}`, import.meta.url);
}
