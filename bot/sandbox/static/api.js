// The browser's only link to the sandbox: the /_sandbox control API and its
// Server-Sent Events stream. Every request goes to this origin.

async function parse(resp) {
  const body = await resp.text();
  let data = null;
  try {
    data = body ? JSON.parse(body) : {};
  } catch {
    data = { ok: false, error: body.slice(0, 200) || resp.statusText };
  }
  if (!resp.ok || (data && data.ok === false)) {
    const err = new Error((data && (data.error || data.message)) || `HTTP ${resp.status}`);
    err.data = data;
    throw err;
  }
  return data;
}

export async function get(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const qs = q.toString();
  return parse(await fetch(`/_sandbox/${path}${qs ? "?" + qs : ""}`, { cache: "no-store" }));
}

export async function post(path, body) {
  return parse(await fetch(`/_sandbox/${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  }));
}

// The server may answer with {key: [...]} or a bare list.
export function listOf(data, key) {
  if (Array.isArray(data)) return data;
  return (data && Array.isArray(data[key]) && data[key]) || [];
}

/**
 * Subscribe to /_sandbox/updates. `onEvent` gets each parsed event; `onOpen`
 * runs each time the stream (re)opens, since changes made before that moment
 * sent no event we could see. body[data-live] says whether we are connected.
 */
export function subscribe(onEvent, onOpen) {
  const source = new EventSource("/_sandbox/updates");
  source.onopen = () => {
    document.body.dataset.live = "1";
    onOpen();
  };
  source.onerror = () => {
    document.body.dataset.live = "0";
  };
  source.onmessage = (msg) => {
    let event;
    try {
      event = JSON.parse(msg.data);
    } catch {
      return;
    }
    onEvent(event);
  };
  return source;
}

/** Run `fn` at most once at a time; calls during a run coalesce into one rerun. */
export function coalesce(fn) {
  let running = false;
  let again = false;
  return async function run() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await fn();
      } while (again);
    } finally {
      running = false;
    }
  };
}
