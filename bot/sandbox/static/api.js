/* The sandbox's routes for the page (bot/sandbox/CONTRACT.md): JSON state, three kinds of
 * things a person does, and the event stream that says when to read the state again. */

const POLL_MS = 2000;

/* What every change must carry (X-Sandbox-Token): handed out with the state, which only this
   page can read. */
let pageToken = null;

async function answer(response, what) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok || body.ok === false) {
    throw new Error(body.error || `${what} answered ${response.status}`);
  }
  return body;
}

export async function getState(user) {
  const response = await fetch(`/sandbox/state?user=${encodeURIComponent(user)}`,
    { headers: { Accept: "application/json" } });
  const body = await answer(response, "/sandbox/state");
  pageToken = body.page_token || pageToken;
  return body;
}

/* POST /sandbox/command, /sandbox/action or /sandbox/home; a refusal throws its message. */
export async function post(path, payload) {
  if (!pageToken) await defaultUser();
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json",
               "X-Sandbox-Token": pageToken || "" },
    body: JSON.stringify(payload),
  });
  return answer(response, "the sandbox");
}

/* Whom to act as on a first visit: without ?user= the sandbox answers as its default user
   (the requester). */
export async function defaultUser() {
  const response = await fetch("/sandbox/state", { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  pageToken = body.page_token || pageToken;
  return response.ok && body.me ? body.me : null;
}

/* Calls onVersion(n) for every version the stream announces, and onVersion(null) every
   POLL_MS while the stream is not open (reconnecting, refused, or no EventSource at all). */
export function watch(onVersion) {
  let events = null;
  if (typeof EventSource === "function") {
    events = new EventSource("/sandbox/events");
    events.onmessage = (event) => {
      try {
        onVersion(JSON.parse(event.data).version);
      } catch {
        // a malformed event is ignored; the next one or the poll catches up
      }
    };
  }
  setInterval(() => {
    if (!events || events.readyState !== EventSource.OPEN) onVersion(null);
  }, POLL_MS);
}
