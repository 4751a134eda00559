// The workspace as the client sees it: users, channels, the bot, and who may
// see what. Pure lookups over GET /_sandbox/workspace; no DOM, no requests.

import { listOf } from "./api.js";

const DEFAULT_SHORTCUTS = [{ callback_id: "tandem_draft_reply", name: "Draft a reply with Tandem" }];

export class Directory {
  constructor(ws) {
    this.ws = ws;
    this.users = Object.fromEntries(listOf(ws, "users").map((u) => [u.id, u]));
    this.channels = Object.fromEntries(listOf(ws, "channels").map((c) => [c.id, c]));
    const bot = ws.bot && typeof ws.bot === "object" ? ws.bot : {};
    this.bot = {
      userId: bot.user_id || "U0BOT",
      name: typeof bot.name === "string" ? bot.name : typeof ws.bot === "string" ? ws.bot : "tandem",
    };
    this.shortcuts = listOf(ws, "shortcuts").length ? ws.shortcuts : DEFAULT_SHORTCUTS;
    this.humans = Object.values(this.users).filter((u) => !u.is_bot && u.id !== this.bot.userId);
    // Handed to renderers so mentions show names instead of IDs.
    this.names = {
      user: (id) => (this.users[id] ? this.users[id].name : id === this.bot.userId ? this.bot.name : id),
      channel: (id) => (this.channels[id] ? this.channels[id].name : id),
    };
  }

  findUser(ref) {
    if (!ref) return null;
    return this.humans.find((u) => u.id === ref || u.name === ref.replace(/^@/, "")) || null;
  }

  findChannel(ref) {
    if (!ref) return null;
    const name = ref.replace(/^#/, "");
    const c = Object.values(this.channels).find((ch) => ch.id === ref || ch.name === name);
    return c ? c.id : null;
  }

  /** The user's DM with the bot; the sandbox derives it from the user ID (U0X -> D0X). */
  dmId(userId) {
    return userId && userId.startsWith("U0") ? "D0" + userId.slice(2) : "D0" + userId;
  }

  isExternal(userId) {
    const u = this.users[userId];
    return Boolean(u && (u.is_external ?? u.external ?? u.is_stranger));
  }

  // Channels `userId` belongs to. Without member lists, an external user sees
  // only shared channels, as in Slack Connect.
  visibleChannels(userId) {
    return Object.values(this.channels).filter((c) => {
      if (c.is_im) return false;
      if (Array.isArray(c.members)) return c.members.includes(userId);
      return !this.isExternal(userId) || c.is_ext_shared;
    }).sort((a, b) => a.name.localeCompare(b.name));
  }

  canSee(userId, channelId) {
    return channelId === this.dmId(userId) ||
      this.visibleChannels(userId).some((c) => c.id === channelId);
  }

  teamName(teamId) {
    const t = (this.ws.teams || {})[teamId];
    if (t) return typeof t === "string" ? t : t.name || teamId;
    return teamId === "T0ACME" ? "Acme" : "external";
  }

  teamTitle() {
    const team = this.ws.team;
    if (team && typeof team === "object") return team.name || team.domain || "Sandbox";
    return team || "Tandem Sandbox";
  }
}
