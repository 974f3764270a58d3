// Master data (ADMIN, and what the API lets a PL do): a list with search and paging, and a form generated from
// the API's own OpenAPI description of the resource's create and change bodies. Fields that name another
// resource offer its rows by name; the API's validation errors appear next to their fields.

import { announce, api } from "./api.js";
import { clearErrors, showProblem } from "./forms.js";
import { readSchemaFields, renderSchemaFields } from "./schema_form.js";

const PAGE = 20;
let openapi = null;

async function description() {
  if (!openapi) {
    const answer = await api("GET", "/schema/openapi.json");
    openapi = answer.ok ? answer.data : { paths: {}, components: { schemas: {} } };
  }
  return openapi;
}

function bodySchema(operation) {
  return operation?.requestBody?.content?.["application/json"]?.schema ?? null;
}

function csrf() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

export function initMasterData() {
  const root = document.getElementById("master-data");
  const config = {
    api: root.dataset.api,
    key: root.dataset.key,
    create: root.dataset.create.toLowerCase(),
    title: root.dataset.title,
    columns: JSON.parse(root.dataset.columns),
    references: JSON.parse(root.dataset.references),
  };
  const table = root.querySelector("table.data-list");
  const pager = root.querySelector(".pager");
  const editor = document.getElementById("data-editor");
  const form = document.getElementById("data-form");
  const fields = form.querySelector("[data-schema-fields]");
  let offset = 0;
  let search = "";
  let editing = null;
  let schemas = { root: {}, create: null, update: null, itemPath: null };
  const names = {}; // field -> Map(id -> label)
  const choices = {}; // field -> [[id, label]]

  async function loadSchemas() {
    const doc = await description();
    const itemPath = Object.keys(doc.paths).find((path) => path.startsWith(`${config.api}/{`) && !path.slice(config.api.length + 1).includes("/"));
    schemas = {
      root: { $defs: doc.components?.schemas ?? {} },
      create: bodySchema(doc.paths[config.api]?.[config.create]),
      update: itemPath ? bodySchema(doc.paths[itemPath]?.patch) : null,
      canDelete: Boolean(itemPath && doc.paths[itemPath]?.delete),
    };
    const wanted = new Set();
    for (const schema of [schemas.create, schemas.update]) {
      const node = schema?.$ref ? schemas.root.$defs[schema.$ref.split("/").pop()] : schema;
      for (const name of Object.keys(node?.properties ?? {})) if (config.references[name]) wanted.add(name);
    }
    for (const [name] of config.columns) if (config.references[name]) wanted.add(name);
    const byApi = {};
    for (const name of wanted) {
      const { api: source, label } = config.references[name];
      byApi[source] ??= readAll(source);
      const rows = await byApi[source];
      choices[name] = rows.map((row) => [row.id, String(row[label] ?? row.id)]);
      names[name] = new Map(choices[name]);
    }
    if (!schemas.create) root.querySelector("[data-new]").hidden = true;
  }

  async function readAll(source) {
    const rows = [];
    for (;;) {
      const answer = await api("GET", `${source}?limit=500&offset=${rows.length}`);
      if (!answer.ok) return rows;
      const page = Array.isArray(answer.data) ? { items: answer.data, total: answer.data.length } : answer.data;
      rows.push(...page.items);
      if (!page.items.length || rows.length >= page.total) return rows;
    }
  }

  function shown(name, value) {
    if (value === null || value === undefined || value === "") return "—";
    if (Array.isArray(value)) {
      return value.map((item) => names[name]?.get(item) ?? String(item)).join(", ") || "—";
    }
    if (names[name]) return names[name].get(value) ?? String(value);
    if (typeof value === "boolean") return value ? "yes" : "no";
    return String(value);
  }

  async function loadList() {
    const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (search) query.set("name", search);
    const answer = await api("GET", `${config.api}?${config.key === "id" ? query : ""}`);
    const body = table.tBodies[0];
    if (!answer.ok) {
      body.replaceChildren(rowOf([cellOf(answer.problem?.detail ?? "Could not read the list.", config.columns.length + 1)]));
      return;
    }
    const page = Array.isArray(answer.data)
      ? { items: answer.data, total: answer.data.length, offset: 0, limit: answer.data.length }
      : answer.data;
    body.replaceChildren(
      ...page.items.map((item) => {
        const tr = rowOf(config.columns.map(([name], index) => {
          const td = cellOf(shown(name, item[name]));
          if (index === 0) {
            const th = document.createElement("th");
            th.scope = "row";
            th.textContent = td.textContent;
            return th;
          }
          return td;
        }));
        tr.dataset.key = String(item[config.key]);
        const actions = document.createElement("td");
        if (schemas.update || schemas.canDelete) {
          const edit = document.createElement("button");
          edit.type = "button";
          edit.className = "linkish";
          edit.textContent = "Edit";
          const hidden = document.createElement("span");
          hidden.className = "visually-hidden";
          hidden.textContent = ` ${shown(config.columns[0][0], item[config.columns[0][0]])}`;
          edit.append(hidden);
          edit.addEventListener("click", () => open(item));
          actions.append(edit);
        }
        tr.append(actions);
        return tr;
      }),
    );
    if (!page.items.length) body.replaceChildren(rowOf([cellOf("Nothing here yet.", config.columns.length + 1)]));
    const paged = page.total > page.items.length || page.offset > 0;
    pager.hidden = !paged;
    if (paged) {
      pager.querySelector("[data-range]").textContent =
        `${page.offset + 1}–${page.offset + page.items.length} of ${page.total}`;
      pager.querySelector('[data-page="-1"]').disabled = page.offset === 0;
      pager.querySelector('[data-page="1"]').disabled = page.offset + page.items.length >= page.total;
    }
    root.dataset.ready = "true";
  }

  function open(item) {
    editing = item;
    const schema = item ? (schemas.update ?? schemas.create) : schemas.create;
    document.getElementById("data-editor-title").textContent = item
      ? `Change ${shown(config.columns[0][0], item[config.columns[0][0]])}`
      : `New in ${config.title.toLowerCase()}`;
    renderSchemaFields(fields, schema, { prefix: "", values: item ?? {}, root: schemas.root, choices });
    clearErrors(form);
    form.querySelector("[data-delete]").hidden = !(item && schemas.canDelete);
    editor.hidden = false;
    fields.querySelector("input, select, textarea")?.focus();
  }

  function close() {
    editor.hidden = true;
    editing = null;
    root.querySelector("[data-new]").focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = readSchemaFields(fields);
    const answer = editing
      ? await api("PATCH", `${config.api}/${encodeURIComponent(editing[config.key])}`, body)
      : await api(config.create.toUpperCase(), config.api, body);
    if (!answer.ok) {
      showProblem(form, answer.problem);
      return;
    }
    say(true, editing ? "Saved." : "Created.");
    close();
    await loadList();
  });

  form.querySelector("[data-cancel]").addEventListener("click", close);
  form.querySelector("[data-delete]").addEventListener("click", async () => {
    if (!editing || !window.confirm("Delete this row? Entries that use it stay readable.")) return;
    const answer = await api("DELETE", `${config.api}/${encodeURIComponent(editing[config.key])}`);
    if (!answer.ok) {
      showProblem(form, answer.problem);
      return;
    }
    say(true, "Deleted.");
    close();
    await loadList();
  });
  root.querySelector("[data-new]").addEventListener("click", () => open(null));
  pager.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-page]");
    if (!button) return;
    offset = Math.max(0, offset + Number(button.dataset.page) * PAGE);
    await loadList();
  });
  document.getElementById("data-search")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    search = event.target.elements.namedItem("name").value.trim();
    offset = 0;
    await loadList();
  });
  document.getElementById("holiday-import")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const importForm = event.target;
    const file = importForm.elements.namedItem("file").files[0];
    if (!file) return;
    const response = await fetch(`${config.api}/import`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "text/calendar", Accept: "application/json", "X-CSRF-Token": csrf() },
      body: await file.text(),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      showProblem(importForm, answer);
      return;
    }
    clearErrors(importForm);
    say(true, `Imported: ${answer.created} new, ${answer.updated} renamed, ${answer.unchanged} unchanged.`);
    await loadList();
  });

  loadSchemas().then(loadList);
  return {};
}

function rowOf(cells) {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
}

function cellOf(text, span) {
  const td = document.createElement("td");
  td.textContent = text;
  if (span) td.colSpan = span;
  return td;
}

function say(ok, text) {
  const out = document.getElementById("data-status");
  out.hidden = false;
  out.className = `flash ${ok ? "ok" : "bad"}`;
  out.textContent = text;
  announce(text);
}
