// Showing the API's validation errors next to the fields they concern.

const ALIASES = { preset: "preset_id" };

function fieldFor(form, key) {
  // An item of a list field ("ticket_prefixes[0]") is shown at the list's field.
  const plain = key.replace(/\[\d+\]/g, "");
  const name = ALIASES[plain] ?? plain;
  return form.elements.namedItem(name) ?? form.elements.namedItem(name.replace(/_id$/, ""));
}

function errorSlot(form, field) {
  const ids = (field.getAttribute("aria-describedby") ?? "").split(/\s+/);
  for (const id of ids) {
    const slot = id && form.querySelector(`#${CSS.escape(id)}.field-error`);
    if (slot) return slot;
  }
  return null;
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll(".field-error, .form-error")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
}

/** Put each of the problem's field errors under its field; the rest at the top of the form. Focus the first. */
export function showProblem(form, problem) {
  clearErrors(form);
  const errors = Array.isArray(problem?.errors) ? problem.errors : [];
  const general = [];
  let first = null;
  for (const error of errors) {
    const key = String(error.key ?? "").replace(/^data\./, "");
    const field = key && fieldFor(form, key);
    const slot = field && errorSlot(form, field);
    if (!slot) {
      general.push(error.message);
      continue;
    }
    slot.textContent = sentence(error.message);
    slot.hidden = false;
    field.setAttribute("aria-invalid", "true");
    first ??= field;
  }
  if (!errors.length || general.length) {
    const top = form.querySelector(".form-error");
    if (top) {
      top.textContent = sentence(general.length ? general.join("; ") : problem?.detail ?? "That did not work.");
      top.hidden = false;
    }
  }
  // A field error moves focus to its field; a general one is read out by its role="alert".
  first?.focus();
}

function sentence(text) {
  const trimmed = String(text ?? "").trim();
  return trimmed ? trimmed[0].toUpperCase() + trimmed.slice(1) : trimmed;
}
