// Message list and thread rendering.
//
// Owns how one message looks (author, time, blocks or mrkdwn text, reactions,
// reply count, streaming and ephemeral marks) and the per-message toolbar:
// add a reaction, reply in thread, and the message-actions menu. It only calls
// back into `env`; all requests are made by the caller.

import { renderBlocks } from "./blocks.js";
import { el, emoji, renderMrkdwn } from "./mrkdwn.js";

export const PICKER = ["white_check_mark", "x", "+1", "-1", "pencil2"];

export function sortByTs(messages) {
  return [...messages].sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
}

/** Top-level messages of a channel: no thread replies (broadcasts excepted). */
export function topLevel(messages) {
  return messages.filter((m) => !m.thread_ts || m.thread_ts === m.ts ||
    m.subtype === "thread_broadcast");
}

function clock(ts) {
  const d = new Date(parseFloat(ts) * 1000);
  return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function author(msg, env) {
  const isBot = Boolean(msg.bot_id) || msg.user === env.bot.userId;
  const user = env.users[msg.user];
  const name = isBot ? (msg.username || env.bot.name) : (user ? user.name : msg.user || "unknown");
  return el("span", { class: "author" },
    el("span", { class: "author-name", testid: "message-author" }, name),
    isBot ? el("span", { class: "badge badge-app" }, "APP") : null,
    user && env.isExternal(user.id)
      ? el("span", { class: "badge badge-external", testid: "external-badge" },
        env.teamName(user.team_id))
      : null);
}

function avatar(msg, env) {
  const isBot = Boolean(msg.bot_id) || msg.user === env.bot.userId;
  const user = env.users[msg.user];
  const label = isBot ? "🤖" : (user ? user.name : "?").slice(0, 1).toUpperCase();
  const hue = [...(msg.user || "")].reduce((h, ch) => h + ch.charCodeAt(0), 0) % 5;
  return el("div", { class: `avatar ${isBot ? "bot" : ""} hue-${hue}` }, label);
}

// The rich_text block the sandbox derives from plain text carries only
// unstyled text and user mentions; rendering the message's mrkdwn `text`
// instead shows the formatting real Slack would have parsed. A streaming
// message's text also runs ahead of its blocks.
function derivedRichText(msg, blocks) {
  if (blocks.length !== 1 || blocks[0].type !== "rich_text" || !msg.text) return false;
  if (msg.streaming) return true;
  const sections = blocks[0].elements || [];
  if (sections.length !== 1 || sections[0].type !== "rich_text_section") return false;
  let plain = "";
  for (const e of sections[0].elements || []) {
    if (e.style) return false;
    if (e.type === "text") plain += e.text || "";
    else if (e.type === "user") plain += `<@${e.user_id}>`;
    else return false;
  }
  return plain === msg.text.replace(/<@([UW][A-Z0-9]+)\|[^>]*>/g, "<@$1>");
}

function body(msg, env, onButton) {
  let blocks = Array.isArray(msg.blocks) ? msg.blocks : [];
  if (derivedRichText(msg, blocks)) blocks = [];
  const content = blocks.length
    ? renderBlocks(blocks, { names: env.names, onButton })
    : el("div", { class: "mrkdwn" }, renderMrkdwn(msg.text || "", env.names));
  if (msg.streaming) {
    // The cursor sits at the end of the text that has arrived so far.
    const spots = content.querySelectorAll("p, li, pre, .rt-section, .bk-text");
    const last = spots.length ? spots[spots.length - 1] : content;
    last.append(el("span", { class: "cursor", testid: "stream-cursor" }, "▍"));
  }
  return el("div", { class: "message-body", testid: "message-body" }, content);
}

function reactions(msg, env) {
  const list = msg.reactions || [];
  if (!list.length) return null;
  return el("div", { class: "reactions" }, list.map((r) => {
    const mine = (r.users || []).includes(env.me);
    return el("button", {
      class: `reaction ${mine ? "mine" : ""}`, type: "button", testid: "reaction",
      "data-name": r.name, "data-mine": mine ? "1" : "0",
      title: `:${r.name}: by ${(r.users || []).map((u) => env.names.user(u)).join(", ")}`,
      onclick: () => env.react(msg, r.name, mine),
    }, el("span", { class: "emoji" }, emoji(r.name)),
    el("span", { class: "count", testid: "reaction-count" }, r.count ?? (r.users || []).length));
  }),
  el("button", {
    class: "reaction add", type: "button", title: "Add reaction", testid: "add-reaction-inline",
    onclick: (ev) => env.openPicker(msg, ev.currentTarget),
  }, "+"));
}

function toolbar(msg, env, inThread) {
  return el("div", { class: "msg-toolbar" },
    el("button", {
      type: "button", title: "Add reaction", testid: "add-reaction",
      onclick: (ev) => env.openPicker(msg, ev.currentTarget),
    }, "😀"),
    inThread ? null : el("button", {
      type: "button", title: "Reply in thread", testid: "reply-in-thread",
      onclick: () => env.openThread(msg.ts),
    }, "💬"),
    el("button", {
      type: "button", title: "More actions", testid: "message-actions",
      onclick: (ev) => env.openActions(msg, ev.currentTarget),
    }, "⋯"));
}

/** One message row. `inThread` hides thread links (we are already in it). */
export function renderMessage(msg, env, inThread = false) {
  const onButton = (element) => env.click(msg, element);
  const replies = msg.reply_count || 0;
  const node = el("div", {
    class: ["message", msg.streaming && "streaming", msg.ephemeral_for && "ephemeral"]
      .filter(Boolean).join(" "),
    testid: "message", "data-ts": msg.ts, "data-user": msg.user || msg.bot_id || "",
  },
  avatar(msg, env),
  el("div", { class: "message-main" },
    el("div", { class: "message-head" }, author(msg, env),
      el("span", { class: "time", title: msg.ts }, clock(msg.ts)),
      msg.edited ? el("span", { class: "edited" }, "(edited)") : null,
      msg.streaming ? el("span", { class: "streaming-indicator", testid: "streaming-indicator" },
        "● streaming…") : null),
    body(msg, env, onButton),
    msg.ephemeral_for ? el("div", { class: "ephemeral-note", testid: "ephemeral-note" },
      "👁 Only visible to you") : null,
    reactions(msg, env),
    !inThread && env.statuses && env.statuses[msg.ts] ? status(env.statuses[msg.ts], env) : null,
    !inThread && replies ? el("button", {
      class: "thread-link", type: "button", testid: "thread-link",
      onclick: () => env.openThread(msg.ts),
    }, `${replies} ${replies === 1 ? "reply" : "replies"}`) : null),
  toolbar(msg, env, inThread));
  return node;
}

// assistant.threads.setStatus: "tandem is thinking…" under the thread.
function status(text, env) {
  return el("div", { class: "thread-status", testid: "thread-status" },
    el("span", { class: "dots" }, "•••"), ` ${env.bot.name} ${text}`);
}

/** Show `messages` in `container`, keeping the reader's scroll place and unchanged rows. */
export function renderList(container, messages, env,
  { inThread = false, empty = "", status: statusText = "" } = {}) {
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 60;
  const first = !container.dataset.rendered;
  const kept = new Map([...container.children].map((node) => [node.rowKey, node]));
  const rows = messages.map((m) => keyed(kept, `${m.ts}|${JSON.stringify(
    [m, inThread, env.me, !inThread && env.statuses ? env.statuses[m.ts] || "" : ""])}`,
  () => renderMessage(m, env, inThread)));
  if (!messages.length && empty) {
    rows.push(keyed(kept, `empty|${empty}`, () => el("div", { class: "empty" }, empty)));
  }
  if (statusText) {
    rows.push(keyed(kept, `status|${statusText}`,
      () => el("div", { class: "message" }, status(statusText, env))));
  }
  patchChildren(container, rows);
  container.dataset.rendered = "1";
  if (first || nearBottom) container.scrollTop = container.scrollHeight;
}

// A row whose message is unchanged keeps its DOM node, so a click that straddles
// a refresh (another message streaming in) still lands: mousedown and mouseup on
// a replaced node make no click.
function keyed(kept, key, make) {
  const old = kept.get(key);
  if (old) return old;
  const node = make();
  node.rowKey = key;
  return node;
}

/** Make `container`'s children exactly `rows`, leaving nodes already in place untouched. */
function patchChildren(container, rows) {
  rows.forEach((row, i) => {
    const at = container.children[i];
    if (at !== row) container.insertBefore(row, at || null);
  });
  while (container.children.length > rows.length) container.lastElementChild.remove();
}

/** Fill the floating popover with the reaction picker for `msg`. */
export function pickerMenu(msg, env) {
  return el("div", { class: "picker", testid: "reaction-picker" }, PICKER.map((name) =>
    el("button", {
      type: "button", title: `:${name}:`, testid: `pick-${name}`,
      onclick: () => env.react(msg, name, (msg.reactions || []).some(
        (r) => r.name === name && (r.users || []).includes(env.me))),
    }, emoji(name))));
}

/** Fill the floating popover with the message-actions menu for `msg`. */
export function actionsMenu(msg, env, inThread) {
  return el("div", { class: "menu", testid: "actions-menu" },
    env.shortcuts.map((s) => el("button", {
      type: "button", class: "menu-item", testid: `shortcut-${s.callback_id}`,
      onclick: () => env.shortcut(msg, s.callback_id),
    }, el("span", { class: "menu-icon" }, "⚡"), s.name)),
    inThread ? null : el("button", {
      type: "button", class: "menu-item", testid: "menu-reply",
      onclick: () => env.openThread(msg.ts),
    }, el("span", { class: "menu-icon" }, "💬"), "Reply in thread"),
    // Only one's own messages, as in Slack: the app gets message_changed.
    msg.user === env.me && !msg.bot_id ? el("button", {
      type: "button", class: "menu-item", testid: "menu-edit",
      onclick: () => {
        const text = window.prompt("Edit message", msg.text);
        if (text !== null && text.trim() && text !== msg.text) env.edit(msg, text);
      },
    }, el("span", { class: "menu-icon" }, "✏️"), "Edit message") : null);
}
