// The ADMIN's links matrix and sync overview: one click changes a link or asks for a sync through the JSON API;
// the table is read again from the server after each change and whenever a live update arrives.

import { announce, api, fetchFragment, replaceWithHtml } from "./api.js";

function refresher(container) {
  let timer = null;
  async function refresh() {
    const html = await fetchFragment(container.dataset.refresh);
    if (html === null) return;
    const active = document.activeElement;
    const focusKey = container.contains(active) ? keyOf(active) : null;
    replaceWithHtml(container, html);
    if (focusKey) container.querySelector(focusKey)?.focus();
  }
  const soon = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 200);
  };
  return { refresh, soon };
}

function keyOf(element) {
  for (const name of ["data-toggle-link", "data-admin-sync"]) {
    if (element.hasAttribute(name)) return `[${name}="${element.getAttribute(name)}"]`;
  }
  return null;
}

function say(id, ok, text) {
  const out = document.getElementById(id);
  if (out) {
    out.hidden = false;
    out.className = `flash ${ok ? "ok" : "bad"}`;
    out.textContent = text;
  }
  announce(text);
}

export function initAdminLinks() {
  const container = document.getElementById("links-matrix");
  const { refresh, soon } = refresher(container);
  container.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-toggle-link]");
    if (!button) return;
    const [userId, systemId] = button.dataset.toggleLink.split(":");
    const enabled = button.getAttribute("aria-checked") !== "true";
    button.disabled = true;
    const result = await api("PUT", `/api/users/${userId}/ticket-systems/${systemId}`, { enabled });
    button.disabled = false;
    const who = button.closest("tr").querySelector("th").textContent.trim();
    const system = document.getElementById(`sys-${systemId}`)?.textContent.trim();
    say(
      "links-status",
      result.ok,
      result.ok ? `${enabled ? "Enabled" : "Disabled"} ${system} for ${who}.` : (result.problem?.detail ?? "That did not work."),
    );
    await refresh();
  });
  // The team filter applies as soon as it is chosen; the form still works without scripts.
  document.getElementById("links-team")?.addEventListener("change", (event) => event.target.form.requestSubmit());
  return { onEntry: soon, onLink: soon, onResync: soon };
}

export function initAdminSync() {
  const container = document.getElementById("sync-table");
  const { refresh, soon } = refresher(container);
  container.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-admin-sync]");
    if (!button) return;
    const [userId, systemId] = button.dataset.adminSync.split(":");
    button.disabled = true;
    const result = await api("POST", `/api/admin/sync/users/${userId}/ticket-systems/${systemId}`);
    button.disabled = false;
    say(
      "sync-status",
      result.ok,
      result.ok ? "Sync requested; the row changes when the worker is done." : (result.problem?.detail ?? "That did not work."),
    );
    await refresh();
  });
  return { onEntry: soon, onLink: soon, onResync: soon };
}
