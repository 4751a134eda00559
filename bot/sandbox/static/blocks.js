// Block Kit -> DOM nodes.
//
// Owns how messages, modals and the App Home draw their blocks: header,
// section (text, fields, accessory), context, divider, actions, rich_text,
// markdown, image and input (plain_text_input). Anything else, or any block that fails
// to render, becomes an "unsupported block" placeholder so one odd block never
// breaks the page. Images load only from the sandbox itself (no network).

import { renderMarkdown } from "./markdown.js";
import { el, emoji, link, renderMrkdwn, renderPlain, safeHref } from "./mrkdwn.js";

/**
 * ctx: { names: {user(id), channel(id)}, onButton(element, block), inputs: bool }
 * Returns a container element holding every block.
 */
export function renderBlocks(blocks, ctx) {
  const box = el("div", { class: "blocks" });
  for (const block of blocks || []) {
    let node;
    try {
      const fn = RENDERERS[block && block.type];
      node = fn ? fn(block, ctx) : unsupported(block && block.type);
    } catch (err) {
      console.warn("block failed to render", block, err);
      node = unsupported(block && block.type);
    }
    if (block && block.block_id) node.dataset.blockId = block.block_id;
    box.append(node);
  }
  return box;
}

function unsupported(type) {
  return el("div", { class: "block unsupported", testid: "unsupported-block" },
    `unsupported block${type ? `: ${type}` : ""}`);
}

function text(obj, ctx) {
  if (!obj) return document.createTextNode("");
  return obj.type === "mrkdwn" ? renderMrkdwn(obj.text, ctx.names) : renderPlain(obj, ctx.names);
}

export function button(element, block, ctx) {
  const style = element.style === "primary" || element.style === "danger" ? element.style : "";
  return el("button", {
    class: `bk-button ${style}`.trim(), type: "button", testid: "block-button",
    "data-action-id": element.action_id, "data-value": element.value,
    onclick: (ev) => {
      ev.preventDefault();
      // A link button opens its URL and still sends block_actions, as in Slack.
      if (element.url && safeHref(element.url)) window.open(element.url, "_blank", "noopener");
      ctx.onButton && ctx.onButton(element, block, ev.currentTarget);
    },
  }, renderPlain(element.text, ctx.names));
}

function image(element, cls) {
  const url = String(element.image_url || "");
  // Same-origin and data: images only: the sandbox must not reach the network.
  const local = url.startsWith("data:") || url.startsWith("/") ||
    url.startsWith(location.origin + "/");
  if (local) return el("img", { class: cls, src: url, alt: element.alt_text || "" });
  return el("span", { class: `${cls} image-placeholder`, title: url },
    `🖼 ${element.alt_text || "image"}`);
}

function element(elt, block, ctx) {
  switch (elt && elt.type) {
    case "button": return button(elt, block, ctx);
    case "image": return image(elt, "bk-accessory-image");
    case "plain_text_input": return textInput(elt, block);
    default: return el("span", { class: "unsupported-element", testid: "unsupported-element" },
      `unsupported element: ${elt && elt.type}`);
  }
}

function textInput(elt, block) {
  const attrs = {
    // Slack keys state by these even when the app left them out ("" here).
    class: "bk-input", testid: "modal-input", "data-action-id": elt.action_id ?? "",
    "data-block-id": block.block_id ?? "", placeholder: elt.placeholder && elt.placeholder.text,
    maxlength: elt.max_length, minlength: elt.min_length,
  };
  const node = elt.multiline ? el("textarea", { ...attrs, rows: 5 }) : el("input", { ...attrs, type: "text" });
  node.value = elt.initial_value || "";
  if (elt.focus_on_load) node.autofocus = true;
  return node;
}

const RENDERERS = {
  header: (b, ctx) => el("h3", { class: "block bk-header" }, renderPlain(b.text, ctx.names)),
  divider: () => el("hr", { class: "block bk-divider" }),
  section: (b, ctx) => el("div", { class: "block bk-section" },
    el("div", { class: "bk-section-body" },
      b.text ? el("div", { class: "bk-text" }, text(b.text, ctx)) : null,
      b.fields ? el("div", { class: "bk-fields" },
        b.fields.map((f) => el("div", { class: "bk-field" }, text(f, ctx)))) : null),
    b.accessory ? el("div", { class: "bk-accessory" }, element(b.accessory, b, ctx)) : null),
  context: (b, ctx) => el("div", { class: "block bk-context" },
    (b.elements || []).map((e) => (e.type === "image" ? image(e, "bk-context-image")
      : el("span", {}, text(e, ctx))))),
  actions: (b, ctx) => el("div", { class: "block bk-actions" },
    (b.elements || []).map((e) => element(e, b, ctx))),
  image: (b, ctx) => el("figure", { class: "block bk-image" },
    b.title ? el("figcaption", {}, renderPlain(b.title, ctx.names)) : null,
    image(b, "bk-image-img")),
  input: (b, ctx) => el("label", { class: "block bk-input-block" },
    el("span", { class: "bk-label" }, renderPlain(b.label, ctx.names),
      b.optional ? el("span", { class: "optional" }, " (optional)") : null),
    element(b.element, b, ctx),
    b.hint ? el("span", { class: "bk-hint" }, renderPlain(b.hint, ctx.names)) : null,
    el("span", { class: "bk-error", testid: "input-error" })),
  markdown: (b, ctx) => el("div", { class: "block bk-markdown" }, renderMarkdown(b.text, ctx.names)),
  rich_text: (b, ctx) => el("div", { class: "block bk-rich-text" },
    (b.elements || []).map((e) => richElement(e, ctx))),
};

// rich_text containers: section, list, preformatted, quote.
function richElement(e, ctx) {
  switch (e.type) {
    case "rich_text_section": return el("div", { class: "rt-section" }, richInline(e.elements, ctx));
    case "rich_text_preformatted":
      return el("pre", { class: "code-block" }, richInline(e.elements, ctx));
    case "rich_text_quote": return el("blockquote", {}, richInline(e.elements, ctx));
    case "rich_text_list": {
      const list = el(e.style === "ordered" ? "ol" : "ul", { class: "rt-list" },
        (e.elements || []).map((item) => el("li", {}, richInline(item.elements, ctx))));
      if (e.indent) list.style.marginLeft = `${e.indent * 1.5}em`;
      return list;
    }
    default: return unsupported(e.type);
  }
}

function richInline(elements, ctx) {
  return (elements || []).map((e) => {
    let node;
    switch (e.type) {
      case "text": node = document.createTextNode(e.text || ""); break;
      case "link": node = link(e.url || "", e.text || e.url || ""); break;
      case "user": node = el("span", { class: "mention", testid: "mention" },
        "@" + ctx.names.user(e.user_id)); break;
      case "channel": node = el("span", { class: "mention channel-mention", testid: "mention" },
        "#" + ctx.names.channel(e.channel_id)); break;
      case "usergroup": node = el("span", { class: "mention", testid: "mention" },
        "@" + (e.usergroup_id || "group")); break;
      case "broadcast": node = el("span", { class: "mention broadcast", testid: "mention" },
        "@" + e.range); break;
      case "emoji": node = el("span", { class: "emoji", title: `:${e.name}:` },
        e.unicode ? unicodeEmoji(e.unicode) : emoji(e.name)); break;
      default: node = document.createTextNode(e.text || "");
    }
    return styled(node, e.style);
  });
}

function unicodeEmoji(hex) {
  try {
    return String.fromCodePoint(...hex.split("-").map((h) => parseInt(h, 16)));
  } catch {
    return "";
  }
}

function styled(node, style) {
  if (!style) return node;
  let out = node;
  for (const [flag, tag] of [["code", "code"], ["strike", "s"], ["italic", "i"], ["bold", "b"]]) {
    if (style[flag]) out = el(tag, {}, out);
  }
  return out;
}
