// Standard Markdown -> DOM nodes, for Slack's `markdown` block.
//
// Streamed messages (chat.startStream's markdown_text) arrive as a `markdown`
// block, which Slack renders as ordinary Markdown rather than mrkdwn:
// **bold**, *italic*, ~~strike~~, `code`, fences, [links](url), headings,
// lists, quotes and rules. Text may be half-written while streaming, so an
// unclosed marker simply stays literal. Nodes only, never HTML strings.

import { el, link, scanInline } from "./mrkdwn.js";

const INLINE = [
  { kind: "code", re: /`([^`\n]+)`/ },
  { kind: "link", re: /\[([^\]\n]+)\]\(([^)\s]+)\)/ },
  { kind: "mention", re: /<@([UW][A-Z0-9]+)>/ },
  { kind: "auto", re: /<(https?:\/\/[^>\s]+)>|\bhttps?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/ },
  { kind: "b", re: /\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__/ },
  { kind: "s", re: /~~(?=\S)([\s\S]*?\S)~~/ },
  { kind: "i", re: /(?<![\w*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w*])|(?<!\w)_(?=\S)([^_\n]*?\S)_(?!\w)/ },
];

function inline(text, names) {
  return scanInline(text, INLINE, (plain) => plain, (tok, m) => {
    if (tok.kind === "code") return el("code", {}, m[1]);
    if (tok.kind === "link") return link(m[2], m[1]);
    if (tok.kind === "auto") return link(m[1] || m[0], m[1] || m[0]);
    if (tok.kind === "mention") {
      return el("span", { class: "mention", testid: "mention" }, "@" + names.user(m[1]));
    }
    return el(tok.kind, {}, inline(m[1] ?? m[2], names));
  });
}

function paragraph(lines, names) {
  const p = el("p");
  lines.forEach((line, i) => {
    if (i) p.append(el("br"));
    p.append(...inline(line, names));
  });
  return p;
}

const LIST_ITEM = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/;

/** Render Markdown `text` into a `.markdown` element. */
export function renderMarkdown(text, names) {
  const root = el("div", { class: "markdown" });
  const lines = String(text ?? "").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i += 1; // the closing fence, if it has arrived yet
      root.append(el("pre", { class: "code-block" }, body.join("\n")));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      root.append(el(`h${Math.min(6, heading[1].length + 2)}`, { class: "md-heading" },
        inline(heading[2], names)));
      i += 1;
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      root.append(el("hr", { class: "bk-divider" }));
      i += 1;
    } else if (/^\s*>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*> ?/, ""));
      root.append(el("blockquote", {}, paragraph(quoted, names)));
    } else if (LIST_ITEM.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = el(ordered ? "ol" : "ul", { class: "rt-list" });
      while (i < lines.length && LIST_ITEM.test(lines[i])) {
        list.append(el("li", {}, inline(LIST_ITEM.exec(lines[i])[3], names)));
        i += 1;
      }
      root.append(list);
    } else if (!line.trim()) {
      i += 1;
    } else {
      const para = [];
      while (i < lines.length && lines[i].trim() && !/^(\s*(```|~~~|>)|#{1,6}\s)/.test(lines[i]) &&
        !LIST_ITEM.test(lines[i])) para.push(lines[i++]);
      if (!para.length) para.push(lines[i++]); // never stall on a line no rule claims
      root.append(paragraph(para, names));
    }
  }
  return root;
}
