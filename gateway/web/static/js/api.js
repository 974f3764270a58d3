// Calls to the gateway's JSON API from the pages: same-origin cookies, the CSRF token, and problem details.

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

/**
 * Call the API. Resolves to {ok, status, data, problem}; `problem` is the RFC 9457 body of a refused request.
 * A lapsed login sends the browser to the login page and never resolves.
 */
export async function api(method, url, body, { ifMatch } = {}) {
  const headers = { Accept: "application/json", "X-CSRF-Token": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch !== undefined) headers["If-Match"] = `"${ifMatch}"`;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    const detail = "The gateway cannot be reached. Check your connection and try again.";
    return { ok: false, status: 0, problem: { detail } };
  }
  if (response.status === 401) {
    toLogin();
    return new Promise(() => {});
  }
  const text = await response.text();
  const data = text ? safeJson(text) : null;
  if (response.ok) return { ok: true, status: response.status, data };
  const problem = data ?? { detail: `The gateway answered ${response.status}.` };
  return { ok: false, status: response.status, problem };
}

/** A part of a page, as HTML, or null when it could not be read. */
export async function fetchFragment(url) {
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (response.redirected && new URL(response.url).pathname === "/login") {
      toLogin();
      return null;
    }
    return response.ok ? await response.text() : null;
  } catch {
    return null;
  }
}

export function toLogin() {
  const here = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(here)}`);
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Replace an element's children with server-rendered HTML. */
export function replaceWithHtml(element, html) {
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  element.replaceChildren(...parsed.body.childNodes);
}

/** Tell screen reader users (and the tests) what just happened. */
export function announce(text) {
  const announcer = document.getElementById("announcer");
  if (!announcer) return;
  announcer.textContent = "";
  window.setTimeout(() => {
    announcer.textContent = text;
  }, 20);
}
