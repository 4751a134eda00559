// Modals and the App Home.
//
// Owns drawing the top open modal (title, blocks, Submit / Close) and the
// App Home view, and turning a modal's inputs into Slack's
// view.state.values shape. Re-rendering a modal that changed (views.update)
// keeps what the user already typed in inputs whose block_id/action_id stayed.

import { renderBlocks } from "./blocks.js";
import { el, renderPlain } from "./mrkdwn.js";

function title(obj) {
  if (!obj) return "";
  return typeof obj === "string" ? obj : String(obj.text ?? "");
}

/** The top modal (views.push stacks them) and the home view of `views`. */
export function pickViews(views) {
  const modals = views.filter((v) => (v.type || "modal") === "modal");
  return { modal: modals[modals.length - 1] || null, home: views.find((v) => v.type === "home") };
}

/** view.state.values from the inputs inside `root`. */
export function collectValues(root) {
  const values = {};
  for (const input of root.querySelectorAll(".bk-input")) {
    const blockId = input.dataset.blockId ?? "";
    const actionId = input.dataset.actionId ?? "";
    values[blockId] = values[blockId] || {};
    values[blockId][actionId] = { type: "plain_text_input", value: input.value };
  }
  return values;
}

function keepTyped(oldRoot, newRoot) {
  if (!oldRoot) return;
  const typed = collectValues(oldRoot);
  for (const input of newRoot.querySelectorAll(".bk-input")) {
    const v = typed[input.dataset.blockId]?.[input.dataset.actionId];
    if (v) input.value = v.value;
  }
}

/**
 * Show `modal` in `overlay` (or hide the overlay when null). `env` has names,
 * onButton(view, element), submit(view, values, form) and close(view).
 * Does nothing when the same view is already shown unchanged.
 */
export function renderModal(overlay, modal, env) {
  if (!modal) {
    overlay.hidden = true;
    overlay.replaceChildren();
    delete overlay.dataset.signature;
    return;
  }
  const signature = JSON.stringify(modal);
  if (!overlay.hidden && overlay.dataset.signature === signature) return;
  const old = overlay.querySelector(".modal");
  const form = el("form", { class: "modal", testid: "modal", "data-view-id": modal.id,
    onsubmit: (ev) => {
      ev.preventDefault();
      env.submit(modal, collectValues(form), form);
    } },
  el("header", { class: "modal-head" },
    el("h2", { testid: "modal-title" }, title(modal.title)),
    el("button", { type: "button", class: "icon", title: "Close", testid: "modal-x",
      onclick: () => env.close(modal) }, "✕")),
  el("div", { class: "modal-body" },
    renderBlocks(modal.blocks, { names: env.names,
      onButton: (element) => env.onButton(modal, element) })),
  el("div", { class: "modal-error", testid: "modal-error" }),
  el("footer", { class: "modal-foot" },
    el("button", { type: "button", class: "bk-button", testid: "modal-close",
      onclick: () => env.close(modal) }, title(modal.close) || "Cancel"),
    modal.submit ? el("button", { type: "submit", class: "bk-button primary",
      testid: "modal-submit" }, title(modal.submit)) : null));
  if (old && old.dataset.viewId === modal.id) keepTyped(old, form);
  overlay.replaceChildren(form);
  if (modal.errors) showErrors(form, modal.errors);
  overlay.dataset.signature = signature;
  overlay.hidden = false;
  const first = form.querySelector("[autofocus], .bk-input");
  if (first && !old) first.focus();
}

/** Show per-block errors from a `response_action: "errors"` answer. */
export function showErrors(form, errors) {
  for (const node of form.querySelectorAll("[data-testid=input-error]")) node.textContent = "";
  for (const [blockId, raw] of Object.entries(errors || {})) {
    const message = Array.isArray(raw) ? raw.join("; ") : String(raw);
    const block = form.querySelector(`[data-block-id="${CSS.escape(blockId)}"]`);
    const slot = block && block.querySelector("[data-testid=input-error]");
    if (slot) slot.textContent = message;
    else form.querySelector("[data-testid=modal-error]").textContent = message;
  }
}

/** The App Home tab: the published home view, or a hint when there is none. */
export function renderHome(container, home, env) {
  if (!home) {
    container.replaceChildren(el("div", { class: "empty", testid: "home-empty" },
      "The app has not published a Home view yet."));
    return;
  }
  container.replaceChildren(el("div", { class: "home-view", testid: "home-view",
    "data-view-id": home.id },
  home.title ? el("h2", {}, renderPlain(home.title, env.names)) : null,
  renderBlocks(home.blocks, { names: env.names,
    onButton: (element) => env.onButton(home, element) })));
}
