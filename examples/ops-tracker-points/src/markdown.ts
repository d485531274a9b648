/** Characters Markdown would read as formatting. */
const MARKDOWN_SPECIAL = /[\\`*_[\]<>#|~!]/g;

/**
 * People's text as one line of Markdown, shown as they typed it: line breaks become spaces and formatting
 * characters (including `|`, so it is safe in a table cell) are escaped.
 */
export function markdownText(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(MARKDOWN_SPECIAL, (c) => `\\${c}`);
}
