// "My ticket systems": connect (OAuth redirect or key form), sync now, disconnect, and the conflict queue.
// The panel is read again from the server after each change and whenever a live update concerns it.

import { announce, api, fetchFragment, replaceWithHtml } from "./api.js";
import { clearErrors, showProblem } from "./forms.js";

export function initTicketSystems() {
  const panel = document.getElementById("ts-panel");
  let timer = null;
  let deferred = false;

  const typing = () => {
    const active = document.activeElement;
    return panel.contains(active) && active.matches("input, select, textarea");
  };

  async function refresh() {
    if (typing()) {
      deferred = true; // do not throw away a half-typed key; refresh when the field is left
      return;
    }
    const html = await fetchFragment(panel.dataset.refresh);
    if (html === null) return;
    const active = document.activeElement;
    const focusSelector = panel.contains(active) ? selectorOf(active) : null;
    replaceWithHtml(panel, html);
    if (focusSelector) (panel.querySelector(focusSelector) ?? document.getElementById("main")).focus();
  }

  const scheduleRefresh = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 150);
  };

  panel.addEventListener("focusout", () => {
    if (deferred) {
      deferred = false;
      window.setTimeout(scheduleRefresh, 0);
    }
  });

  panel.addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.connect) {
      button.disabled = true;
      const result = await api("POST", `/api/me/ticket-systems/${button.dataset.connect}/connect`);
      if (result.ok && result.data.authorization_url) {
        location.assign(result.data.authorization_url); // the tracker sends the browser back to this page
        return;
      }
      button.disabled = false;
      announceProblem(result, "Connected.");
      await refresh();
    } else if (button.dataset.syncNow) {
      button.disabled = true;
      const result = await api("POST", `/api/me/ticket-systems/${button.dataset.syncNow}/sync`);
      announceProblem(result, "Sync requested; this page shows the result when it is done.");
      button.disabled = false;
    } else if (button.dataset.disconnect) {
      const question = `Disconnect ${button.dataset.name}? Entries stay here; new ones are no longer synced.`;
      if (!window.confirm(question)) return;
      const result = await api("DELETE", `/api/me/ticket-systems/${button.dataset.disconnect}`);
      announceProblem(result, `Disconnected ${button.dataset.name}.`);
      await refresh();
    } else if (button.dataset.resolve) {
      const keep = button.dataset.resolve;
      const result = await api("POST", `/api/me/sync/conflicts/${button.dataset.entry}`, { keep });
      const done =
        keep === "local"
          ? "Kept your version; it will be written to the ticket system."
          : "Took the ticket system's version.";
      announceProblem(result, done);
      await refresh();
      document.getElementById("conflicts")?.focus();
    }
  });

  panel.addEventListener("submit", async (event) => {
    const form = event.target.closest("[data-connect-form]");
    if (!form) return;
    event.preventDefault();
    const body = {};
    // A form has the fields its connector's way of connecting needs: a key, and for some also a login.
    for (const name of ["login", "api_key"]) {
      const value = form.elements.namedItem(name)?.value.trim();
      if (value) body[name] = value;
    }
    const result = await api("POST", `/api/me/ticket-systems/${form.dataset.connectForm}/connect`, body);
    if (!result.ok) {
      showProblem(form, result.problem);
      return;
    }
    clearErrors(form);
    announce("Connected.");
    document.activeElement?.blur();
    await refresh();
  });

  return { onEntry: scheduleRefresh, onLink: scheduleRefresh, onResync: scheduleRefresh };
}

function announceProblem(result, success) {
  const text = result.ok ? success : (result.problem?.detail ?? "That did not work.");
  announce(text);
  const status = document.getElementById("ts-status");
  if (status) {
    status.textContent = text;
    status.className = `flash ${result.ok ? "ok" : "bad"}`;
    status.hidden = false;
  }
}

function selectorOf(element) {
  for (const name of ["data-connect", "data-sync-now", "data-disconnect", "data-resolve"]) {
    if (element.hasAttribute(name)) {
      const extra = name === "data-resolve" ? `[data-entry="${element.dataset.entry}"]` : "";
      return `[${name}="${element.getAttribute(name)}"]${extra}`;
    }
  }
  return element.id ? `#${CSS.escape(element.id)}` : null;
}
