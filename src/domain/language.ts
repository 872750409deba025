// The two languages the line speaks (spec section 3); a participant's letters use one of them too.
export const LANGUAGES = ['en', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

export function parseLanguage(text: string | null | undefined): Language | null {
  return text === 'en' || text === 'es' ? text : null;
}
