// Slack mrkdwn -> DOM nodes.
//
// Owns the text formatting Slack applies to `text` fields: *bold*, _italic_,
// ~strike~, `code`, ```code blocks```, > quotes, <url|links>, <@U…> / <#C…>
// mentions, <!here>-style broadcasts and :emoji: shortcodes. It builds DOM
// nodes, never HTML strings, so message text can't inject markup.

export const EMOJI = {
  white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", "+1": "👍", thumbsup: "👍",
  "-1": "👎", thumbsdown: "👎", pencil2: "✏️", pencil: "📝", memo: "📝", eyes: "👀",
  tada: "🎉", warning: "⚠️", hourglass: "⌛", hourglass_flowing_sand: "⏳", robot_face: "🤖",
  wave: "👋", sparkles: "✨", heart: "❤️", smile: "😄", slightly_smiling_face: "🙂",
  thinking_face: "🤔", raised_hands: "🙌", pray: "🙏", rocket: "🚀", fire: "🔥", cat: "🐱",
  no_entry: "⛔", question: "❓", exclamation: "❗", information_source: "ℹ️", bulb: "💡",
  speech_balloon: "💬", books: "📚", link: "🔗", lock: "🔒", clock3: "🕒", zzz: "💤",
};

export function emoji(name) {
  return EMOJI[name] || `:${name}:`;
}

// Slack escapes only these three in message text.
export function decodeEntities(s) {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "testid") node.dataset.testid = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Only schemes that cannot run script become real links.
export function safeHref(url) {
  return /^(https?:|mailto:)/i.test(url) ? url : null;
}

export function link(url, label) {
  const href = safeHref(url);
  if (!href) return el("span", { class: "link-disabled" }, label);
  return el("a", { href, target: "_blank", rel: "noopener noreferrer" }, label);
}

// `<...>` tokens: mentions, broadcasts and links; `names` resolves IDs.
function angle(inner, names) {
  const [target, label] = splitOnce(inner, "|");
  if (target.startsWith("@")) {
    const id = target.slice(1);
    return el("span", { class: "mention", testid: "mention", "data-id": id },
      "@" + (label || names.user(id)));
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    return el("span", { class: "mention channel-mention", testid: "mention", "data-id": id },
      "#" + (label || names.channel(id)));
  }
  if (target.startsWith("!")) {
    const cmd = target.slice(1);
    if (cmd.startsWith("subteam^")) {
      return el("span", { class: "mention", testid: "mention" }, label || "@group");
    }
    if (cmd.startsWith("date^")) return document.createTextNode(decodeEntities(label || ""));
    return el("span", { class: "mention broadcast", testid: "mention" }, "@" + cmd);
  }
  const url = decodeEntities(target);
  return link(url, decodeEntities(label || url));
}

function splitOnce(s, sep) {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
}

// Styles need a non-word character (or the edge) outside the markers and a
// non-space just inside them, as Slack does: "a*b*c" stays literal.
const INLINE = [
  { kind: "angle", re: /<([^<>\n]+)>/ },
  { kind: "code", re: /`([^`\n]+)`/ },
  { kind: "b", re: /(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/ },
  { kind: "i", re: /(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/ },
  { kind: "s", re: /(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])/ },
  { kind: "emoji", re: /:([a-z0-9_+\-]+):/ },
];

/**
 * Split `text` at the earliest match of any token in `table`: plain runs become text
 * nodes (through `plain`), each match becomes what `render(tok, m)` returns.
 * Shared by the mrkdwn and Markdown renderers, which differ only in their tables.
 */
export function scanInline(text, table, plain, render) {
  const out = [];
  let rest = text;
  while (rest) {
    let best = null;
    for (const tok of table) {
      const m = tok.re.exec(rest);
      if (m && (!best || m.index < best.m.index)) best = { tok, m };
    }
    if (!best) {
      out.push(document.createTextNode(plain(rest)));
      break;
    }
    const { tok, m } = best;
    if (m.index > 0) out.push(document.createTextNode(plain(rest.slice(0, m.index))));
    out.push(render(tok, m));
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

function inline(text, names) {
  return scanInline(text, INLINE, decodeEntities, (tok, m) => {
    if (tok.kind === "angle") return angle(m[1], names);
    if (tok.kind === "code") return el("code", {}, decodeEntities(m[1]));
    if (tok.kind === "emoji") {
      return EMOJI[m[1]] ? el("span", { class: "emoji", title: `:${m[1]}:` }, EMOJI[m[1]])
        : document.createTextNode(m[0]);
    }
    return el(tok.kind, {}, inline(m[1], names));
  });
}

// Lines, with consecutive "> " lines grouped into one quote.
function lines(text, names) {
  const out = [];
  let quote = null;
  text.split("\n").forEach((line, i, all) => {
    const q = /^(&gt;|>) ?/.exec(line);
    if (q) {
      if (!quote) out.push((quote = el("blockquote")));
      if (quote.childNodes.length) quote.append(el("br"));
      quote.append(...inline(line.slice(q[0].length), names));
      return;
    }
    quote = null;
    out.push(...inline(line, names));
    if (i < all.length - 1) out.push(el("br"));
  });
  return out;
}

/** Render mrkdwn `text` into a fragment. `names` has user(id) and channel(id). */
export function renderMrkdwn(text, names) {
  const frag = document.createDocumentFragment();
  const parts = String(text ?? "").split("```");
  parts.forEach((part, i) => {
    // Odd parts sit between fences; an unclosed fence stays literal text.
    if (i % 2 === 1 && i < parts.length - 1) {
      frag.append(el("pre", { class: "code-block" }, decodeEntities(part.replace(/^\n|\n$/g, ""))));
    } else {
      const chunk = i % 2 === 1 ? "```" + part : part;
      // The newline right after a closing fence belongs to the fence.
      frag.append(...lines(i > 0 ? chunk.replace(/^\n/, "") : chunk, names));
    }
  });
  return frag;
}

/** A text object: plain_text gets emoji shortcodes only (unless emoji:false). */
export function renderPlain(obj, names) {
  if (obj === null || obj === undefined) return document.createTextNode("");
  if (typeof obj === "string") return document.createTextNode(obj);
  if (obj.type === "mrkdwn") return renderMrkdwn(obj.text, names);
  const text = String(obj.text ?? "");
  if (obj.emoji === false) return document.createTextNode(text);
  return document.createTextNode(text.replace(/:([a-z0-9_+\-]+):/g, (m, n) => EMOJI[n] || m));
}
