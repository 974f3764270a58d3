// A ticket system's page (ADMIN): the connector's config form generated from its declared JSON Schema
// (GET /api/ticket-system-types), write-only secrets, the webhook URL and "test connection".

import { announce, api } from "./api.js";
import { readSchemaFields, renderSchemaFields } from "./schema_form.js";
import { clearErrors, showProblem } from "./forms.js";

const AUTH = { oauth2: "OAuth 2", oauth1: "OAuth 1.0a", api_key: "API key", personal_token: "personal token" };

export function initAdminTicketSystem() {
  const form = document.getElementById("system-form");
  if (!form) return {};
  const systemId = form.dataset.system;
  const configFields = form.querySelector("[data-schema-fields]");
  const secretFields = form.querySelector("[data-secret-fields]");
  const typeSelect = form.elements.namedItem("type");
  let types = [];
  let system = null;

  const typeNamed = (name) => types.find((type) => type.name === name);

  function showType(type) {
    const hint = document.getElementById("ts-type-hint");
    if (hint) {
      hint.textContent = type
        ? `${type.distribution ?? "built in"} ${type.version ?? ""} · users connect with ${type.auth_modes
            .map((mode) => AUTH[mode.kind] ?? mode.kind)
            .join(" or ")}`
        : "";
    }
    if (!type) {
      configFields.replaceChildren();
      secretFields.replaceChildren();
      return;
    }
    renderSchemaFields(configFields, type.config_schema, { prefix: "config", values: system?.config ?? {} });
    renderSecrets(type.secret_names, new Set(system?.secret_names ?? []));
    document.getElementById("secret-fields").hidden = type.secret_names.length === 0;
  }

  function renderSecrets(names, stored) {
    secretFields.replaceChildren();
    for (const name of names) {
      const id = `secret-${name}`;
      const field = document.createElement("div");
      field.className = "field";
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
      if (stored.has(name)) {
        const badge = document.createElement("span");
        badge.className = "badge sync-synced";
        badge.textContent = "stored";
        label.append(" ", badge);
      }
      const input = document.createElement("input");
      Object.assign(input, { id, name: `secrets.${name}`, type: "password", autocomplete: "new-password" });
      input.setAttribute("aria-describedby", `${id}-error`);
      input.placeholder = stored.has(name) ? "Stored; type a new one to replace it" : "";
      const error = document.createElement("p");
      error.className = "field-error";
      error.id = `${id}-error`;
      error.hidden = true;
      field.append(label, input, error);
      secretFields.append(field);
    }
  }

  async function load() {
    const listed = await api("GET", "/api/ticket-system-types");
    if (!listed.ok) {
      showProblem(form, listed.problem);
      return;
    }
    types = listed.data;
    if (systemId) {
      const found = await api("GET", `/api/ticket-systems/${systemId}`);
      if (!found.ok) {
        showProblem(form, found.problem);
        return;
      }
      system = found.data;
      const type = typeNamed(system.type);
      if (!type) {
        configFields.textContent = `The connector ${system.type} is not installed; its settings cannot be edited.`;
        return;
      }
      showType(type);
    } else {
      typeSelect.replaceChildren(new Option("Choose a connector", ""));
      for (const type of types) typeSelect.append(new Option(type.name, type.name));
      if (types.length === 1) typeSelect.value = types[0].name;
      showType(typeNamed(typeSelect.value));
      typeSelect.addEventListener("change", () => showType(typeNamed(typeSelect.value)));
    }
    form.dataset.ready = "true";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = (name) => form.elements.namedItem(name).value.trim();
    const body = {
      name: value("name"),
      base_url: value("base_url"),
      ticket_url: value("ticket_url") || null,
      enabled: form.elements.namedItem("enabled").checked,
      book_time: form.elements.namedItem("book_time").checked,
      import_activity_id: value("import_activity_id") ? Number(value("import_activity_id")) : null,
      config: readSchemaFields(configFields),
    };
    const secrets = {};
    for (const input of secretFields.querySelectorAll("input")) {
      if (input.value) secrets[input.name.slice("secrets.".length)] = input.value;
    }
    if (!systemId) body.type = value("type");
    if (!systemId || Object.keys(secrets).length) body.secrets = secrets;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const result = systemId
      ? await api("PATCH", `/api/ticket-systems/${systemId}`, body)
      : await api("POST", "/api/ticket-systems", body);
    button.disabled = false;
    if (!result.ok) {
      showProblem(form, result.problem);
      return;
    }
    clearErrors(form);
    if (!systemId) {
      location.assign(`/admin/ticket-systems/${result.data.id}?created=1`);
      return;
    }
    system = result.data;
    for (const input of secretFields.querySelectorAll("input")) input.value = "";
    showType(typeNamed(system.type));
    status(true, "Saved.");
  });

  document.addEventListener("click", async (event) => {
    const test = event.target.closest("[data-test-connection]");
    if (test) {
      test.disabled = true;
      const out = document.getElementById("test-result");
      out.hidden = false;
      out.className = "flash";
      out.textContent = "Asking the tracker…";
      const result = await api("POST", `/api/ticket-systems/${test.dataset.testConnection}/test`);
      test.disabled = false;
      const ok = result.ok && result.data.ok;
      out.className = `flash ${ok ? "ok" : "bad"}`;
      out.dataset.ok = String(ok);
      out.textContent = result.ok ? result.data.detail : (result.problem?.detail ?? "The test did not run.");
      announce(out.textContent);
    }
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const text = document.getElementById(copy.dataset.copy)?.textContent ?? "";
      try {
        await navigator.clipboard.writeText(text);
        announce("Copied.");
      } catch {
        window.getSelection()?.selectAllChildren(document.getElementById(copy.dataset.copy));
        announce("Selected; copy it with Ctrl+C.");
      }
    }
  });

  if (new URLSearchParams(location.search).has("created")) status(true, "Created. Test the connection, then enable users' links.");
  load();
  return {};
}

function status(ok, text) {
  const out = document.getElementById("system-status");
  out.hidden = false;
  out.className = `flash ${ok ? "ok" : "bad"}`;
  out.textContent = text;
  announce(text);
}
