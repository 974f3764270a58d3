// Ticket autocomplete (ARIA combobox with a listbox): tickets of the chosen project from the ticket cache,
// with their summary and status, so a user sees they book on the right ticket.

import { api } from "./api.js";

const LIMIT = 8;
const DELAY_MS = 150;

export function attachTicketAutocomplete(input, projectOf) {
  // Looked up within the field's form: an edit form is wired before it is placed in the page.
  const scope = input.closest("form") ?? document;
  const byId = (id) => scope.querySelector(`#${CSS.escape(id)}`);
  const list = byId(input.getAttribute("aria-controls"));
  const info = byId(`${input.id}-info`);
  const searchUrl = input.dataset.search;
  if (!searchUrl) {
    // No ticket search on this gateway: a plain field.
    input.removeAttribute("role");
    input.removeAttribute("aria-autocomplete");
    input.removeAttribute("aria-expanded");
    input.removeAttribute("aria-controls");
    return { describe() {}, clear() {} };
  }
  let items = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  const isOpen = () => !list.hidden;

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    items = [];
    active = -1;
  };

  const describe = (ticket) => {
    info.textContent = ticket ? [ticket.summary, ticket.status].filter(Boolean).join(" · ") : "";
  };

  const highlight = (index) => {
    active = index;
    for (const [n, option] of [...list.children].entries()) {
      option.setAttribute("aria-selected", String(n === index));
      if (n === index) {
        input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      }
    }
  };

  const pick = (index) => {
    const ticket = items[index];
    if (!ticket) return;
    input.value = ticket.key;
    describe(ticket);
    close();
    input.dispatchEvent(new Event("change", { bubbles: true }));
  };

  const search = async () => {
    const project = projectOf();
    const query = input.value.trim();
    if (!project || !query) {
      close();
      return;
    }
    const mine = ++asked;
    const params = new URLSearchParams({ project_id: project, q: query, limit: String(LIMIT) });
    const result = await api("GET", `${searchUrl}?${params}`);
    if (mine !== asked || document.activeElement !== input) return;
    items = result.ok && Array.isArray(result.data) ? result.data : [];
    if (!items.length) {
      close();
      return;
    }
    list.replaceChildren(
      ...items.map((ticket, n) => {
        const option = document.createElement("li");
        option.id = `${list.id}-${n}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        const key = document.createElement("strong");
        key.textContent = ticket.key;
        const summary = document.createElement("span");
        summary.className = "summary";
        summary.textContent = ticket.summary ?? "";
        const status = document.createElement("span");
        status.className = "ticket-status";
        status.textContent = ticket.status ?? "";
        option.append(key, " ", summary, " ", status);
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          pick(n);
        });
        return option;
      }),
    );
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(-1);
  };

  /** After the ticket is typed out: show what it is when the cache (or one lookup) knows it. */
  const identify = async () => {
    const project = projectOf();
    const key = input.value.trim().toUpperCase();
    if (!project || !key) {
      describe(null);
      return;
    }
    const params = new URLSearchParams({ project_id: project, q: key, limit: "1" });
    const result = await api("GET", `${searchUrl}?${params}`);
    const found = result.ok && Array.isArray(result.data) ? result.data.find((t) => t.key.toUpperCase() === key) : null;
    if (input.value.trim().toUpperCase() === key) describe(found ?? null);
  };

  input.addEventListener("input", () => {
    describe(null);
    window.clearTimeout(timer);
    timer = window.setTimeout(search, DELAY_MS);
  });
  input.addEventListener("change", () => {
    if (!info.textContent) identify();
  });
  input.addEventListener("blur", () => window.setTimeout(close, 100));
  input.addEventListener("keydown", (event) => {
    if (!isOpen()) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      // Down from the last option (and up from the first) goes back to what was typed.
      let next = active + (event.key === "ArrowDown" ? 1 : -1);
      if (next >= items.length) next = -1;
      else if (next < -1) next = items.length - 1;
      highlight(next);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      event.stopPropagation();
      pick(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });

  return { describe, clear: () => { close(); describe(null); } };
}
