/** Lone UTF-16 surrogates: with the `u` flag a proper pair is one code point, never in Cs. */
const loneSurrogate = /\p{Cs}/u;

/**
 * True when the string is well-formed Unicode, i.e. has a UTF-8 form
 * (String.prototype.isWellFormed, which TypeScript's ES2023 lib lacks).
 */
export function isWellFormedUnicode(s: string): boolean {
  return !loneSurrogate.test(s);
}
