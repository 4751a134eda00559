// The sandbox's browser client: state, navigation and wiring.
//
// Owns who we act as, which channel / thread / tab is open, and turning
// clicks into /_sandbox control calls. Lookups live in directory.js;
// rendering in messages.js, blocks.js, views.js, mrkdwn.js and markdown.js;
// requests and the live stream in api.js. Every change comes back through the
// SSE stream, so the UI re-fetches what an event names instead of patching
// state optimistically.

import { coalesce, get, listOf, post, subscribe } from "./api.js";
import { Directory } from "./directory.js";
import { actionsMenu, pickerMenu, renderList, sortByTs, topLevel } from "./messages.js";
import { el } from "./mrkdwn.js";
import { closePopover, openPopover, toast, wirePopover } from "./popups.js";
import { pickViews, renderHome, renderModal, showErrors } from "./views.js";

const $ = (sel) => document.querySelector(sel);

class SandboxClient {
  constructor(dir) {
    this.dir = dir;
    const params = new URLSearchParams(location.search);
    this.me = (dir.findUser(params.get("user")) || dir.humans[0] || {}).id;
    this.channelId = dir.findChannel(params.get("channel")) || "C0GENERAL";
    this.mode = "messages"; // or "home"
    this.threadTs = null;
    this.views = [];
    this.home = null;
    this.statuses = {};
    this.unread = new Set();
    this.refreshMessages = coalesce(() => this.loadMessages());
    this.refreshThread = coalesce(() => this.loadThread());
    this.refreshViews = coalesce(() => this.loadViews());
  }

  get dm() {
    return this.dir.dmId(this.me);
  }

  start() {
    const { dir } = this;
    $("[data-testid=team-name]").textContent = dir.teamTitle();
    const switcher = $("[data-testid=user-switcher]");
    switcher.replaceChildren(...dir.humans.map((u) => el("option", { value: u.id },
      `${u.name}${dir.isExternal(u.id) ? ` (${dir.teamName(u.team_id)})` : ""}`)));
    switcher.value = this.me;
    switcher.addEventListener("change", () => this.switchUser(switcher.value));
    this.wireComposer($("[data-testid=composer]"), () => null);
    this.wireComposer($("[data-testid=thread-composer]"), () => this.threadTs);
    $("[data-testid=thread-close]").addEventListener("click", () => this.closeThread());
    for (const tab of document.querySelectorAll("[data-tab]")) {
      tab.addEventListener("click", () => (tab.dataset.tab === "home" ? this.openHome()
        : this.openChannel(this.dm)));
    }
    wirePopover(() => {
      const modal = pickViews(this.views).modal;
      if (modal) this.closeView(modal);
    });
    subscribe((ev) => this.onEvent(ev), () => this.refreshAll());
    if (!dir.canSee(this.me, this.channelId)) {
      this.channelId = (dir.visibleChannels(this.me)[0] || {}).id || this.dm;
    }
    this.openChannel(this.channelId);
    this.refreshViews();
  }

  // ---- chrome ---------------------------------------------------------------

  renderSidebar() {
    const { dir } = this;
    const inMessages = this.mode === "messages";
    const item = (testid, icon, label, id, active, extra) => el("li", {},
      el("button", { type: "button", testid, "data-channel-id": id, ...extra,
        class: ["nav-item", active && "active", this.unread.has(id) && "unread"]
          .filter(Boolean).join(" ") },
      el("span", { class: "hash" }, icon), label));
    $("[data-role=channels]").replaceChildren(...dir.visibleChannels(this.me).map((c) =>
      item("channel-item", c.is_private ? "🔒" : c.is_ext_shared ? "⇄" : "#", c.name, c.id,
        inMessages && c.id === this.channelId,
        { "data-channel-name": c.name, onclick: () => this.openChannel(c.id) })));
    $("[data-role=dms]").replaceChildren(item("dm-tandem", "🤖", dir.bot.name, this.dm,
      inMessages && this.channelId === this.dm, { onclick: () => this.openChannel(this.dm) }));
    $("[data-role=apps]").replaceChildren(item("app-home", "🏠", "App Home", "home",
      !inMessages, { onclick: () => this.openHome() }));
  }

  renderHeader() {
    const { dir } = this;
    const c = dir.channels[this.channelId];
    const home = this.mode === "home";
    const withBot = home || this.channelId === this.dm;
    const purpose = c && (typeof c.purpose === "object" ? c.purpose.value : c.purpose);
    const title = withBot ? dir.bot.name : `#${c ? c.name : this.channelId}`;
    $("[data-testid=channel-title]").textContent = title;
    document.title = `${title} · Tandem sandbox`;
    $("[data-testid=channel-purpose]").textContent = home ? "App Home"
      : withBot ? "Direct message with the app"
        : [purpose, c && c.is_ext_shared ? `Shared with ${dir.teamName("T0ACME")}` : ""]
          .filter((part, i, all) => part && all.indexOf(part) === i).join(" · ");
    $("[data-role=tabs]").hidden = !withBot;
    for (const tab of document.querySelectorAll("[data-tab]")) {
      tab.classList.toggle("active", (tab.dataset.tab === "home") === home);
    }
    $("[data-testid=messages]").hidden = home;
    $("[data-testid=composer]").hidden = home;
    $("[data-testid=home]").hidden = !home;
  }

  messageEnv() {
    const { dir } = this;
    const ctx = () => ({ channel: this.channelId, user: this.me });
    const env = {
      users: dir.users, bot: dir.bot, me: this.me, names: dir.names, shortcuts: dir.shortcuts,
      statuses: this.statuses, teamName: (t) => dir.teamName(t),
      isExternal: (id) => dir.isExternal(id),
      react: (msg, name, remove) => this.act("react", { ...ctx(), ts: msg.ts, name, remove }),
      edit: (msg, text) => this.act("edit", { ...ctx(), ts: msg.ts, text }),
      click: (msg, element) => this.act("click",
        { ...ctx(), ts: msg.ts, action_id: element.action_id, value: element.value }),
      shortcut: (msg, callbackId) => this.act("shortcut",
        { ...ctx(), ts: msg.ts, callback_id: callbackId }),
      openThread: (ts) => this.openThread(ts),
      openPicker: (msg, anchor) => openPopover(pickerMenu(msg, env), anchor),
      openActions: (msg, anchor) => openPopover(
        actionsMenu(msg, env, Boolean(msg.thread_ts && msg.thread_ts !== msg.ts)), anchor),
    };
    return env;
  }

  viewEnv() {
    return {
      names: this.dir.names,
      onButton: (view, element) => this.act("click", { view_id: view.id, user: this.me,
        action_id: element.action_id, value: element.value, channel: this.channelId }),
      submit: (view, values, form) => this.submit(view, values, form),
      close: (view) => this.closeView(view),
    };
  }

  // ---- navigation -----------------------------------------------------------

  openChannel(id) {
    if (this.channelId !== id || this.mode !== "messages") this.closeThread();
    this.mode = "messages";
    this.channelId = id;
    this.unread.delete(id);
    const list = $("[data-testid=messages]");
    list.replaceChildren();
    delete list.dataset.rendered;
    this.renderSidebar();
    this.renderHeader();
    this.refreshMessages();
    $("[data-testid=composer-input]").focus();
  }

  openHome() {
    this.mode = "home";
    this.closeThread();
    this.channelId = this.dm;
    this.renderSidebar();
    this.renderHeader();
    renderHome($("[data-testid=home]"), this.home, this.viewEnv());
    // Opening the tab is what fires app_home_opened, as in Slack.
    this.act("home", { user: this.me }, () => this.loadViews());
  }

  openThread(ts) {
    closePopover();
    this.threadTs = ts;
    $("[data-testid=thread-pane]").hidden = false;
    const list = $("[data-testid=thread-messages]");
    list.replaceChildren();
    delete list.dataset.rendered;
    const c = this.dir.channels[this.channelId];
    $("[data-role=thread-channel]").textContent = c && !c.is_im ? `#${c.name}` : this.dir.bot.name;
    this.refreshThread();
    $("[data-testid=thread-composer-input]").focus();
  }

  closeThread() {
    this.threadTs = null;
    $("[data-testid=thread-pane]").hidden = true;
  }

  switchUser(userId) {
    const wasDm = this.channelId === this.dm;
    this.me = userId;
    this.unread.clear();
    this.views = [];
    closePopover();
    renderModal($("[data-testid=modal-overlay]"), null, this.viewEnv());
    if (this.mode === "home") this.openHome();
    else if (wasDm) this.openChannel(this.dm);
    else if (this.dir.canSee(userId, this.channelId)) this.openChannel(this.channelId);
    else this.openChannel((this.dir.visibleChannels(userId)[0] || {}).id || this.dm);
    this.refreshThread(); // ephemeral replies differ per user
    this.refreshViews();
  }

  // ---- data -----------------------------------------------------------------

  async loadMessages() {
    if (this.mode !== "messages" || !this.channelId) return;
    const [channel, me] = [this.channelId, this.me];
    const data = await this.quiet(get("messages", { channel, as_user: me }));
    if (!data || channel !== this.channelId || me !== this.me || this.mode !== "messages") return;
    this.statuses = data.statuses || {};
    renderList($("[data-testid=messages]"), topLevel(sortByTs(listOf(data, "messages"))),
      this.messageEnv(), { empty: "No messages yet. Say hello!" });
  }

  async loadThread() {
    if (!this.threadTs) return;
    const [channel, ts, me] = [this.channelId, this.threadTs, this.me];
    const data = await this.quiet(get("messages", { channel, thread_ts: ts, as_user: me }));
    if (!data || ts !== this.threadTs || channel !== this.channelId || me !== this.me) return;
    renderList($("[data-testid=thread-messages]"), sortByTs(listOf(data, "messages")),
      this.messageEnv(), { inThread: true, status: (data.statuses || {})[ts] });
  }

  async loadViews() {
    const me = this.me;
    const data = await this.quiet(get("views", { user: me }));
    if (!data || me !== this.me) return;
    this.views = listOf(data, "views");
    const { modal, home } = pickViews(this.views);
    this.home = data.home || home || null;
    renderModal($("[data-testid=modal-overlay]"), modal, this.viewEnv());
    if (this.mode === "home") renderHome($("[data-testid=home]"), this.home, this.viewEnv());
  }

  refreshAll() {
    this.refreshMessages();
    this.refreshThread();
    this.refreshViews();
  }

  onEvent(ev) {
    if (ev.type === "changed") {
      const id = this.dir.findChannel(ev.channel) || ev.channel;
      if (id === this.channelId) {
        this.refreshMessages();
        if (this.threadTs) this.refreshThread();
      } else if (this.dir.canSee(this.me, id) && !this.unread.has(id)) {
        this.unread.add(id);
        this.renderSidebar();
      }
    } else if (ev.type === "views" && (!ev.user || ev.user === this.me)) {
      this.refreshViews();
    }
  }

  // ---- actions --------------------------------------------------------------

  async act(path, body, after) {
    closePopover();
    try {
      const result = await post(path, body);
      if (after) await after(result);
      return result;
    } catch (err) {
      toast(`${path}: ${err.message}`);
      return null;
    }
  }

  async submit(view, values, form) {
    const result = await this.act("submit", { view_id: view.id, user: this.me, values });
    if (!result) return;
    // Slack keeps the modal open when the app does not ack in time.
    if (result.acked === false) toast("The app did not respond. Is it running?");
    if (result.errors && typeof result.errors === "object") showErrors(form, result.errors);
    await this.loadViews();
  }

  closeView(view) {
    return this.act("close", { view_id: view.id, user: this.me }, () => this.loadViews());
  }

  send(text, threadTs) {
    const command = /^(\/[\w-]+)(?:\s+([\s\S]*))?$/.exec(text.trim());
    if (command) {
      return this.act("command",
        { channel: this.channelId, user: this.me, command: command[1], text: command[2] || "" });
    }
    return this.act("post", { channel: this.channelId, user: this.me, text, thread_ts: threadTs },
      () => (threadTs ? this.loadThread() : this.loadMessages()));
  }

  wireComposer(form, threadTs) {
    const input = form.querySelector("textarea");
    const submit = async () => {
      const text = input.value;
      if (!text.trim()) return;
      input.value = "";
      const ok = await this.send(text, threadTs() || undefined);
      if (!ok) input.value = text; // keep what was typed when the sandbox refused it
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      submit();
    });
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        submit();
      }
    });
  }

  async quiet(promise) {
    try {
      return await promise;
    } catch (err) {
      toast(err.message);
      return null;
    }
  }
}

async function main() {
  let ws;
  try {
    ws = await get("workspace");
  } catch (err) {
    document.body.replaceChildren(el("p", { class: "fatal" },
      `Could not load the sandbox workspace: ${err.message}`));
    return;
  }
  const client = new SandboxClient(new Directory(ws));
  window.sandbox = client; // handy from the devtools console
  client.start();
}

main();
