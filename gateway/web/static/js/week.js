// "My week": booking, inline editing and deleting with the keyboard, bulk entry, and the days kept current.
// Every change goes through the JSON API; afterwards the days (totals, day classes, sync states: all computed
// by the server) are fetched again as HTML and put in place, keeping an open editor untouched.

import { announce, api, fetchFragment } from "./api.js";
import { attachTicketAutocomplete } from "./autocomplete.js";
import { clearErrors, showProblem } from "./forms.js";
import { formatDuration, minutesOf, normaliseTime, parseDuration, timeOf } from "./time.js";

const REFRESH_DELAY_MS = 120;

export function initWeek() {
  const region = document.getElementById("week-days");
  const newForm = document.querySelector('[data-entry-form="new"]');
  const editorTemplate = document.getElementById("entry-editor");
  let editing = null; // { li, form, entry }
  let refreshTimer = null;
  let refreshing = null;
  let refreshAgain = false;

  // --- Keeping the days current ---------------------------------------------------------------------------

  const scheduleRefresh = () => {
    window.clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(refresh, REFRESH_DELAY_MS);
  };

  // Changes that arrive live (a worker pushed, the tracker changed something) are read out, like the user's own.
  const syncStates = () =>
    new Map(
      [...region.querySelectorAll("li.entry")].map((li) => [li.id, li.querySelector("[data-sync]")?.dataset.sync]),
    );
  const LIVE_WORDS = {
    synced: "synced",
    failed: "refused by the tracker",
    conflict: "in conflict",
    pending: "waiting to sync",
    remote_deleted: "deleted in the tracker",
  };

  function announceSyncChanges(before) {
    const counts = {};
    for (const [id, state] of syncStates()) {
      if (state && before.has(id) && before.get(id) !== state) counts[state] = (counts[state] ?? 0) + 1;
    }
    const parts = Object.entries(counts).map(
      ([state, n]) => `${n} ${n === 1 ? "entry" : "entries"} ${LIVE_WORDS[state] ?? state}`,
    );
    if (parts.length) announce(`${parts.join(", ")}.`);
  }

  async function refresh() {
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      const before = syncStates();
      const html = await fetchFragment(region.dataset.refresh);
      if (html === null) return;
      applyDays(html);
      announceSyncChanges(before);
    })();
    try {
      await refreshing;
    } finally {
      refreshing = null;
    }
    if (refreshAgain) {
      refreshAgain = false;
      await refresh();
    }
  }

  function applyDays(html) {
    const fresh = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html").body;
    const focus = focusKey();
    const keep = editing?.li;
    if (!keep || !keep.isConnected) {
      region.replaceChildren(...fresh.childNodes);
    } else {
      // The open editor (and whatever is typed in it) stays where it is; everything around it is replaced.
      const holder = keep.closest("section.day");
      const nodes = [...fresh.children];
      const twin = nodes.find((node) => node.matches("section.day") && node.dataset.day === holder.dataset.day);
      for (const child of [...region.children]) if (child !== holder) child.remove();
      if (twin) {
        holder.before(...nodes.slice(0, nodes.indexOf(twin)));
        holder.after(...nodes.slice(nodes.indexOf(twin) + 1));
        mergeDay(holder, twin, keep);
      } else {
        holder.after(...nodes);
      }
    }
    restoreFocus(focus);
  }

  function mergeDay(holder, fresh, keep) {
    holder.className = fresh.className;
    holder.querySelector(".day-head").replaceWith(fresh.querySelector(".day-head"));
    const list = holder.querySelector("ol.entries");
    const items = [...(fresh.querySelector("ol.entries")?.children ?? [])];
    for (const li of [...list.children]) if (li !== keep) li.remove();
    const twin = items.findIndex((li) => li.id === keep.id);
    if (twin < 0) {
      list.append(...items);
      return;
    }
    keep.before(...items.slice(0, twin));
    keep.after(...items.slice(twin + 1));
    // The entry's own (hidden) view and data follow the server too; the editor keeps the version it started from.
    const view = items[twin].querySelector(".entry-view");
    view.hidden = true;
    keep.querySelector(".entry-view").replaceWith(view);
    keep.dataset.entry = items[twin].dataset.entry;
  }

  function focusKey() {
    const active = document.activeElement;
    if (!active || !region.contains(active) || editing?.li.contains(active)) return null;
    const li = active.closest("li.entry");
    for (const attribute of ["data-edit", "data-delete", "data-add-day"]) {
      if (active.hasAttribute(attribute)) {
        const value = attribute === "data-add-day" ? `="${active.dataset.addDay}"` : "";
        return { li: li?.id, selector: `[${attribute}${value}]` };
      }
    }
    return li ? { li: li.id, selector: "[data-edit]" } : null;
  }

  function restoreFocus(key) {
    if (!key) return;
    const scope = key.li ? document.getElementById(key.li) : region;
    (scope?.querySelector(key.selector) ?? newForm.elements.day).focus({ preventScroll: true });
  }

  // --- The entry form (new entry and inline editor) -------------------------------------------------------

  function setUpEntryForm(form, { submit, cancel }) {
    const f = form.elements;
    const ticket = attachTicketAutocomplete(f.ticket, () => f.project_id.value);

    const syncEnd = () => {
      const minutes = parseDuration(f.duration.value);
      const start = minutesOf(normaliseTime(f.start.value));
      if (minutes !== null && start !== null) f.end.value = timeOf(start + minutes);
    };
    const syncDuration = () => {
      const start = minutesOf(f.start.value);
      const end = minutesOf(f.end.value);
      f.duration.value = start !== null && end !== null ? formatDuration(end - start) : "";
    };
    for (const input of form.querySelectorAll("[data-time]")) {
      input.addEventListener("blur", () => {
        input.value = normaliseTime(input.value);
        if (input.name === "start" && f.duration.value && !f.end.value) syncEnd();
        else syncDuration();
      });
    }
    f.duration.addEventListener("input", syncEnd);
    f.duration.addEventListener("blur", () => {
      const minutes = parseDuration(f.duration.value);
      if (minutes !== null) f.duration.value = formatDuration(minutes);
    });
    f.project_id.addEventListener("change", () => showCustomer(form));
    f.preset?.addEventListener("change", () => {
      const option = f.preset.selectedOptions[0];
      if (!option?.value) return;
      f.project_id.value = option.dataset.project;
      showCustomer(form, option.dataset.customer);
      f.activity_id.value = option.dataset.activity;
      if (option.dataset.description) f.description.value = option.dataset.description;
      f.preset.value = "";
      announce(`Filled from the preset ${option.textContent.trim()}`);
    });

    form.addEventListener("keydown", (event) => {
      const target = event.target;
      if (event.key === "Enter" && !event.shiftKey && !event.defaultPrevented && target.matches("input, select")) {
        event.preventDefault();
        form.requestSubmit();
      } else if (event.altKey && event.code === "KeyC" && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        copyPrevious(form, ticket);
      } else if (event.key === "Escape" && !event.defaultPrevented) {
        event.preventDefault();
        if (cancel) cancel();
        else clearErrors(form);
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      for (const input of form.querySelectorAll("[data-time]")) input.value = normaliseTime(input.value);
      if (f.duration.value && !f.end.value) syncEnd();
      const body = entryBody(form);
      if (!body) return;
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        await submit(body, ticket);
      } finally {
        button.disabled = false;
      }
    });
    return ticket;
  }

  function entryBody(form) {
    const f = form.elements;
    const missing = [];
    if (!f.start.value.trim()) missing.push({ key: "start", message: "enter the start time, such as 09:00" });
    if (!f.end.value.trim()) missing.push({ key: "end", message: "enter the end time or a duration" });
    if (!f.project_id.value) missing.push({ key: "project_id", message: "choose a project" });
    if (!f.activity_id.value) missing.push({ key: "activity_id", message: "choose an activity" });
    if (missing.length) {
      showProblem(form, { errors: missing });
      return null;
    }
    const body = {
      day: f.day.value,
      start: f.start.value.trim(),
      end: f.end.value.trim(),
      project_id: Number(f.project_id.value),
      activity_id: Number(f.activity_id.value),
      ticket: f.ticket.value.trim(),
      description: f.description.value,
    };
    if (!form.querySelector(".f-customer").hidden && f.customer_id.value) {
      body.customer_id = Number(f.customer_id.value);
    }
    if (f.account_id) body.account_id = f.account_id.value ? Number(f.account_id.value) : null;
    return body;
  }

  function showCustomer(form, customerId) {
    const f = form.elements;
    const option = f.project_id.selectedOptions[0];
    const global = option?.dataset.global === "true";
    form.querySelector(".f-customer").hidden = !global;
    f.customer_id.value = global && customerId ? String(customerId) : "";
  }

  function fill(form, entry, ticket) {
    const f = form.elements;
    f.day.value = entry.day;
    f.start.value = entry.start;
    f.end.value = entry.end;
    f.duration.value = formatDuration(entry.duration);
    f.project_id.value = String(entry.project_id);
    const option = f.project_id.selectedOptions[0];
    showCustomer(form, option && Number(option.dataset.customer) !== entry.customer_id ? entry.customer_id : undefined);
    f.activity_id.value = String(entry.activity_id);
    if (f.account_id) f.account_id.value = entry.account_id ? String(entry.account_id) : "";
    f.ticket.value = entry.ticket;
    f.description.value = entry.description;
    ticket.describe(null);
  }

  // --- New entries ----------------------------------------------------------------------------------------

  setUpEntryForm(newForm, {
    async submit(body, ticket) {
      const result = await api("POST", "/api/entries", body);
      if (!result.ok) {
        showProblem(newForm, result.problem);
        return;
      }
      clearErrors(newForm);
      announce(`Booked ${body.start}–${body.end} on ${dayName(body.day)}.`);
      // Ready for the next one: same day, project and activity, starting where this one ended.
      const f = newForm.elements;
      f.start.value = result.data.end;
      for (const name of ["end", "duration", "ticket", "description"]) f[name].value = "";
      ticket.clear();
      f.start.focus();
      f.start.select();
      await refresh();
    },
  });

  function copyPrevious(form, ticket) {
    const day = form.elements.day.value;
    const own = editing?.form === form ? editing.entry.id : null;
    const before = [...region.querySelectorAll("li.entry")]
      .map((li) => JSON.parse(li.dataset.entry))
      .filter((entry) => entry.day <= day && entry.id !== own)
      .sort((a, b) => (a.day + a.end).localeCompare(b.day + b.end));
    const previous = before.at(-1);
    if (!previous) {
      announce("There is no earlier entry this week to copy.");
      return;
    }
    const start = previous.day === day ? previous.end : form.elements.start.value || previous.start;
    fill(form, { ...previous, day, start, end: timeOf(minutesOf(start) + previous.duration) }, ticket);
    announce(`Copied ${previous.ticket || previous.description || "the previous entry"}; adjust and press Enter.`);
    form.elements.start.focus();
    form.elements.start.select();
  }

  // --- Editing and deleting -------------------------------------------------------------------------------

  function openEditor(li) {
    if (editing) closeEditor();
    const entry = JSON.parse(li.dataset.entry);
    const form = editorTemplate.content.firstElementChild.cloneNode(true);
    const ticket = setUpEntryForm(form, {
      async submit(body) {
        const result = await api("PATCH", `/api/entries/${entry.id}`, { ...body, version: entry.version });
        if (result.status === 409) {
          // Changed meanwhile (a sync, another window): show what it is now; saving again puts this over it.
          await refresh();
          const latest = JSON.parse(li.dataset.entry);
          entry.version = latest.version;
          const now = [`${latest.start}–${latest.end}`, latest.ticket, latest.description].filter(Boolean).join(" · ");
          showProblem(form, {
            detail:
              `This entry was changed meanwhile; it is now ${now}. ` +
              "Press Enter to save yours over it, or Esc to keep it.",
          });
          return;
        }
        if (!result.ok) {
          showProblem(form, result.problem);
          return;
        }
        announce(`Saved ${body.start}–${body.end} on ${dayName(body.day)}.`);
        closeEditor();
        await refresh();
        document.querySelector(`#entry-${entry.id} [data-edit]`)?.focus();
      },
      cancel() {
        closeEditor();
        li.querySelector("[data-edit]")?.focus();
      },
    });
    form.querySelector("[data-cancel]").addEventListener("click", () => {
      closeEditor();
      li.querySelector("[data-edit]")?.focus();
    });
    li.querySelector(".entry-view").hidden = true;
    li.classList.add("editing");
    li.append(form);
    fill(form, entry, ticket);
    editing = { li, form, entry };
    form.elements.day.focus();
  }

  function closeEditor() {
    if (!editing) return;
    const { li, form } = editing;
    form.remove();
    li.classList.remove("editing");
    li.querySelector(".entry-view").hidden = false;
    editing = null;
    scheduleRefresh();
  }

  async function deleteEntry(li) {
    const entry = JSON.parse(li.dataset.entry);
    const what = `${dayName(entry.day)} ${entry.start}–${entry.end}`;
    if (!window.confirm(`Delete the entry of ${what}?`)) return;
    const result = await api("DELETE", `/api/entries/${entry.id}`, undefined, { ifMatch: entry.version });
    if (!result.ok) {
      announce(result.problem?.detail ?? "The entry could not be deleted.");
      window.alert(result.problem?.detail ?? "The entry could not be deleted.");
      return;
    }
    const next = li.nextElementSibling ?? li.previousElementSibling;
    announce(`Deleted the entry of ${what}.`);
    await refresh();
    (next && document.getElementById(next.id)?.querySelector("[data-edit]"))?.focus() ??
      newForm.elements.day.focus();
  }

  region.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const li = button.closest("li.entry");
    if (button.hasAttribute("data-edit") && li) openEditor(li);
    else if (button.hasAttribute("data-delete") && li) deleteEntry(li);
    else if (button.dataset.addDay) {
      newForm.elements.day.value = button.dataset.addDay;
      newForm.scrollIntoView({ block: "nearest" });
      newForm.elements.start.focus();
    }
  });

  // --- Bulk entry -----------------------------------------------------------------------------------------

  const bulkForm = document.querySelector("[data-bulk-form]");
  bulkForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = bulkForm.elements;
    for (const input of bulkForm.querySelectorAll("[data-time]")) input.value = normaliseTime(input.value);
    const body = {
      preset_id: Number(f.preset_id.value),
      first_day: f.first_day.value,
      last_day: f.last_day.value,
      use_contract: f.use_contract.checked,
      skip_weekends: !f.include_weekends.checked,
    };
    if (!body.use_contract) {
      body.start = f.start.value.trim() || null;
      body.end = f.end.value.trim() || null;
    }
    if (f.description.value.trim()) body.description = f.description.value.trim();
    const result = await api("POST", "/api/entries/bulk", body);
    if (!result.ok) {
      showProblem(bulkForm, result.problem);
      return;
    }
    clearErrors(bulkForm);
    const count = result.data.length;
    announce(`Booked ${count} day${count === 1 ? "" : "s"}.`);
    const top = bulkForm.querySelector(".form-error");
    top.textContent = `Booked ${count} day${count === 1 ? "" : "s"}.`;
    top.classList.add("ok");
    top.hidden = false;
    await refresh();
  });

  // --- Shortcuts outside the fields -----------------------------------------------------------------------

  document.addEventListener("keydown", (event) => {
    const go = (which) => document.querySelector(`[data-week-nav="${which}"]`)?.click();
    if (event.defaultPrevented || event.ctrlKey || event.metaKey) return;
    if (event.altKey && (event.key === "PageUp" || event.key === "PageDown")) {
      // Anywhere, also inside a field.
      event.preventDefault();
      go(event.key === "PageUp" ? "prev" : "next");
      return;
    }
    if (event.altKey || event.target.closest?.("input, select, textarea, [contenteditable]")) return;
    if (event.key === "ArrowLeft") go("prev");
    else if (event.key === "ArrowRight") go("next");
    else if (event.key === "t" || event.key === "T") go("today");
    else if (event.key === "n" || event.key === "N") newForm.elements.day.focus();
    else return;
    event.preventDefault();
  });


  return {
    onEntry(event) {
      const shown = region.querySelector(`section.day[data-day="${event.day}"]`);
      if (shown || document.getElementById(`entry-${event.entry_id}`)) {
        scheduleRefresh();
      }
    },
    onResync: scheduleRefresh,
  };
}

function dayName(isoDay) {
  const options = { weekday: "short", day: "numeric", month: "short" };
  return new Date(`${isoDay}T12:00:00`).toLocaleDateString(undefined, options);
}
