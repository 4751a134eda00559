// The floating bits: one popover (reaction picker, message actions) and a
// toast for errors. Both live outside the message list, so a live re-render
// of the list (a streaming draft) does not close an open menu.

const $ = (sel) => document.querySelector(sel);
let toastTimer = null;

/** Show `content` next to `anchor`, flipping above it near the bottom edge. */
export function openPopover(content, anchor) {
  const pop = $("[data-testid=popover]");
  pop.replaceChildren(content);
  pop.hidden = false;
  const rect = anchor.getBoundingClientRect();
  const { offsetWidth: width, offsetHeight: height } = pop;
  pop.style.left = `${Math.max(8, Math.min(rect.right - width, innerWidth - width - 8))}px`;
  const below = rect.bottom + 4;
  pop.style.top = `${below + height > innerHeight ? Math.max(8, rect.top - height - 4) : below}px`;
}

export function closePopover() {
  const pop = $("[data-testid=popover]");
  pop.hidden = true;
  pop.replaceChildren();
}

/** Close the popover on a click outside it or on Escape (which returns true when it did). */
export function wirePopover(onEscape) {
  document.addEventListener("mousedown", (ev) => {
    const pop = $("[data-testid=popover]");
    if (!pop.hidden && !pop.contains(ev.target)) closePopover();
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape") return;
    const pop = $("[data-testid=popover]");
    if (!pop.hidden) closePopover();
    else onEscape();
  });
}

export function toast(text) {
  const node = $("[data-testid=toast]");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 6000);
}
