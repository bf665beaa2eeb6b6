// zxcvbn's advice arrives as keys (its feedback kinds in camelCase). Each is translated; the
// long variant names of the zxcvbn crate are understood too, and an unknown key falls back to
// a general hint rather than showing a key.
import { hasKey, t } from "./i18n.svelte";

const ALIASES: Record<string, string> = {
  topRow: "straightRow",
  straightRowsOfKeysAreEasyToGuess: "straightRow",
  shortKeyboardPatternsAreEasyToGuess: "keyPattern",
  repeatsLikeAaaAreEasyToGuess: "simpleRepeat",
  repeatsLikeAbcAbcAreOnlySlightlyHarderToGuess: "extendedRepeat",
  thisIsATop10Password: "topTen",
  thisIsATop100Password: "topHundred",
  thisIsACommonPassword: "commonPassword",
  common: "commonPassword",
  thisIsSimilarToACommonlyUsedPassword: "similarToCommon",
  sequencesLikeAbcAreEasyToGuess: "sequences",
  recentYearsAreEasyToGuess: "recentYears",
  aWordByItselfIsEasyToGuess: "wordByItself",
  datesAreOftenEasyToGuess: "dates",
  namesAndSurnamesByThemselvesAreEasyToGuess: "namesByThemselves",
  commonNamesAndSurnamesAreEasyToGuess: "commonNames",
  useAFewWordsAvoidCommonPhrases: "useAFewWords",
  useWords: "useAFewWords",
  noNeedForSymbolsDigitsOrUppercaseLetters: "noNeedForMixedCase",
  noNeed: "noNeedForMixedCase",
  addAnotherWordOrTwo: "addAnotherWord",
  anotherWord: "addAnotherWord",
  capitalizationDoesntHelpVeryMuch: "capitalization",
  allUppercaseIsAlmostAsEasyToGuessAsAllLowercase: "allUppercase",
  reversedWordsArentMuchHarderToGuess: "reverseWords",
  predictableSubstitutionsDontHelpVeryMuch: "substitution",
  l33t: "substitution",
  useALongerKeyboardPatternWithMoreTurns: "longerKeyboardPattern",
  avoidRepeatedWordsAndCharacters: "repeated",
  avoidSequences: "sequences",
  avoidRecentYears: "recentYears",
  avoidYearsThatAreAssociatedWithYou: "associatedYears",
  avoidDatesAndYearsThatAreAssociatedWithYou: "dates",
};

function lowerFirst(key: string): string {
  return key.charAt(0).toLowerCase() + key.slice(1);
}

function translate(group: "warning" | "suggestion", key: string): string {
  const plain = lowerFirst(key.trim());
  for (const candidate of [plain, ALIASES[plain]]) {
    if (candidate && hasKey(`strength.${group}.${candidate}`)) return t(`strength.${group}.${candidate}`);
  }
  return t(`strength.${group}.unknown`);
}

export const warningText = (key: string): string => translate("warning", key);
export const suggestionText = (key: string): string => translate("suggestion", key);
