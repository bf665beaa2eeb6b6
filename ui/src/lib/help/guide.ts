// The user guide (docs/guide.md, built into the window so it always matches this version),
// split into its sections for the help dialog's contents list.
import { marked } from "marked";
import source from "virtual:user-guide";

export interface GuideSection {
  id: string;
  title: string;
  html: string;
}

export function sections(markdown: string = source): GuideSection[] {
  const parts = markdown.split(/^## /m).slice(1);
  return parts.map((part, index) => {
    const newline = part.indexOf("\n");
    const title = (newline < 0 ? part : part.slice(0, newline)).trim();
    const body = newline < 0 ? "" : part.slice(newline + 1);
    // Our own text, written in this repository: it holds no HTML of its own to escape.
    return { id: `guide-${index}`, title, html: marked.parse(body, { async: false }) };
  });
}
