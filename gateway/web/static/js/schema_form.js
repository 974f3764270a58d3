// Form fields generated from a JSON Schema (a connector's declared config), and the values read back from them.
// Each field is named by its path ("config.page_size"), so the API's field errors ("config.page_size") land
// next to it (forms.js). Handles what msgspec's schemas use: objects ($ref into $defs), optional values
// (anyOf with null), enums, booleans, integers and numbers with bounds, strings with lengths and formats,
// arrays of scalars (one per line); anything else is edited as JSON.

let counter = 0;

function resolve(schema, root) {
  let node = schema ?? {};
  const seen = new Set();
  while (node.$ref && !seen.has(node.$ref)) {
    seen.add(node.$ref);
    const name = node.$ref.split("/").pop();
    node = { ...(root.$defs?.[name] ?? {}), ...Object.fromEntries(Object.entries(node).filter(([k]) => k !== "$ref")) };
  }
  return node;
}

/** The schema without "or null", and whether null was allowed. */
function unwrap(schema, root) {
  const node = resolve(schema, root);
  const options = node.anyOf ?? node.oneOf;
  if (Array.isArray(options)) {
    const rest = options.filter((option) => resolve(option, root).type !== "null");
    if (rest.length === 1) {
      const { anyOf: _a, oneOf: _o, ...own } = node;
      return { schema: { ...resolve(rest[0], root), ...own }, nullable: rest.length < options.length };
    }
  }
  if (Array.isArray(node.type) && node.type.includes("null")) {
    const types = node.type.filter((type) => type !== "null");
    return { schema: { ...node, type: types.length === 1 ? types[0] : types }, nullable: true };
  }
  return { schema: node, nullable: false };
}

function kindOf(schema) {
  if (Array.isArray(schema.enum)) return "enum";
  if (schema.type === "boolean") return "boolean";
  if (schema.type === "integer" || schema.type === "number") return schema.type;
  if (schema.type === "string") return "string";
  if (schema.type === "object" && schema.properties) return "object";
  if (schema.type === "array" && ["string", "integer", "number"].includes(schema.items?.type)) return "list";
  return "json";
}

function humanize(name) {
  const words = name.replace(/_/g, " ");
  return words[0].toUpperCase() + words.slice(1);
}

function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children);
  return element;
}

/**
 * Fill `container` with the fields of `schema` (an object schema), named `${prefix}.${property}`, showing
 * `values` (what is stored) or else each property's default.
 */
export function renderSchemaFields(container, schema, { prefix, values = {}, root = schema, choices = {} } = {}) {
  container.replaceChildren();
  const node = resolve(schema, root);
  const required = new Set(node.required ?? []);
  for (const [name, property] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    const { schema: field, nullable } = unwrap(property, root);
    const value = Object.hasOwn(values ?? {}, name) ? values[name] : field.default;
    const optional = !required.has(name) || nullable;
    const title = property.title ?? humanize(name);
    container.append(fieldFor(path, name, field, { optional, nullable, value, root, title, choices }));
  }
}

function fieldFor(path, name, schema, { optional, nullable, value, root, title, choices }) {
  const id = `sf-${++counter}`;
  const options = choices[name];
  const kind = options ? (schema.type === "array" ? "multi" : "choice") : kindOf(schema);
  const describedBy = [`${id}-error`];
  const hint = schema.description ? el("p", { class: "hint muted small", id: `${id}-hint` }, schema.description) : null;
  if (hint) describedBy.push(`${id}-hint`);
  const error = el("p", { class: "field-error", id: `${id}-error`, hidden: true });
  const label = el("label", { for: id }, title);
  if (optional && kind !== "boolean") label.append(" ", el("span", { class: "muted" }, "(optional)"));

  if (kind === "object") {
    const fieldset = el("fieldset", { class: "nested", "data-path": path, "data-kind": kind }, el("legend", {}, title));
    if (hint) fieldset.append(hint);
    const inner = el("div", { class: "fields" });
    renderSchemaFields(inner, schema, { prefix: path, values: value ?? {}, root, choices });
    fieldset.append(inner);
    return fieldset;
  }

  const common = {
    id,
    name: path,
    "data-kind": kind,
    "data-optional": optional ? "true" : "false",
    "data-nullable": nullable ? "true" : "false",
    "aria-describedby": describedBy.join(" "),
    required: !optional,
  };
  let input;
  if (kind === "boolean") {
    input = el("input", { ...common, type: "checkbox", required: false, checked: value === true });
    return el("div", { class: "field check" }, input, label, hint ?? "", error);
  }
  if (kind === "choice" || kind === "multi") {
    input = el("select", { ...common, multiple: kind === "multi", size: kind === "multi" ? Math.min(6, options.length || 1) : undefined });
    if (kind === "choice" && (optional || value === undefined || value === null)) input.append(el("option", { value: "" }, "—"));
    const chosen = new Set((Array.isArray(value) ? value : [value]).map(String));
    for (const [optionValue, optionLabel] of options) {
      input.append(el("option", { value: optionValue, selected: chosen.has(String(optionValue)) }, optionLabel));
    }
  } else if (kind === "enum") {
    input = el("select", common);
    if (optional) input.append(el("option", { value: "" }, "—"));
    for (const option of schema.enum) {
      input.append(el("option", { value: JSON.stringify(option), selected: option === value }, String(option)));
    }
  } else if (kind === "integer" || kind === "number") {
    input = el("input", {
      ...common,
      type: "number",
      inputmode: kind === "integer" ? "numeric" : "decimal",
      step: kind === "integer" ? (schema.multipleOf ?? 1) : "any",
      min: schema.minimum ?? schema.exclusiveMinimum,
      max: schema.maximum ?? schema.exclusiveMaximum,
      value: value ?? "",
    });
  } else if (kind === "string") {
    const secret = /password|secret|token/.test(name);
    const formats = { uri: "url", email: "email", date: "date", "date-time": "datetime-local" };
    const type = secret ? "password" : (formats[schema.format] ?? "text");
    // No `pattern` attribute: HTML anchors it, the API does not; the API's message is the one shown.
    input = el("input", {
      ...common,
      type,
      autocomplete: secret ? "new-password" : "off",
      spellcheck: "false",
      maxlength: schema.maxLength,
      value: secret ? "" : (value ?? ""),
    });
  } else if (kind === "list") {
    input = el("textarea", { ...common, rows: 3, spellcheck: "false" });
    input.value = Array.isArray(value) ? value.join("\n") : "";
    label.append(" ", el("span", { class: "muted" }, "(one per line)"));
  } else {
    input = el("textarea", { ...common, rows: 4, spellcheck: "false" });
    input.value = value === undefined ? "" : JSON.stringify(value, null, 2);
    label.append(" ", el("span", { class: "muted" }, "(JSON)"));
  }
  return el("div", { class: "field" }, label, input, hint ?? "", error);
}

/**
 * The values of the fields `renderSchemaFields` made, as the object the schema describes. Empty optional
 * fields are left out; text that is not a number stays text, so the server names the field at fault.
 */
export function readSchemaFields(container) {
  const result = {};
  for (const node of container.querySelectorAll(":scope > .field, :scope > fieldset.nested")) {
    if (node.matches("fieldset")) {
      const name = node.dataset.path.split(".").pop();
      result[name] = readSchemaFields(node.querySelector(":scope > .fields"));
      continue;
    }
    const input = node.querySelector("[data-kind]");
    const name = input.name.split(".").pop();
    const kind = input.dataset.kind;
    const optional = input.dataset.optional === "true";
    if (kind === "boolean") {
      result[name] = input.checked;
      continue;
    }
    if (kind === "multi") {
      result[name] = [...input.selectedOptions].map((option) => Number(option.value));
      continue;
    }
    const text = input.value.trim();
    if (text === "") {
      if (input.dataset.nullable === "true") result[name] = null;
      else if (!optional) result[name] = kind === "list" ? [] : "";
      continue;
    }
    if (kind === "choice") result[name] = Number.isFinite(Number(text)) ? Number(text) : text;
    else if (kind === "enum") result[name] = JSON.parse(text);
    else if (kind === "integer" || kind === "number") result[name] = Number.isFinite(Number(text)) ? Number(text) : text;
    else if (kind === "list") result[name] = text.split(/\n+/).map((line) => line.trim()).filter(Boolean);
    else if (kind === "json") {
      try {
        result[name] = JSON.parse(text);
      } catch {
        result[name] = text;
      }
    } else result[name] = text;
  }
  return result;
}
