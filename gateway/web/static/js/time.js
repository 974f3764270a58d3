// Reading times and durations the way people type them. The API still decides what is valid.

/** "9" → "09:00", "930" → "09:30", "9.30" / "9:30" / "9h30" → "09:30"; anything else is returned unchanged. */
export function normaliseTime(text) {
  const value = String(text ?? "").trim();
  let hours;
  let minutes;
  let found = value.match(/^(\d{1,2})(?:[:.h](\d{2}))?$/);
  if (found) {
    hours = Number(found[1]);
    minutes = Number(found[2] ?? 0);
  } else if ((found = value.match(/^(\d{1,2})(\d{2})$/))) {
    hours = Number(found[1]);
    minutes = Number(found[2]);
  } else {
    return value;
  }
  if (hours > 24 || minutes > 59) return value;
  return `${String(hours).padStart(2, "0")}:${String(minutes).padStart(2, "0")}`;
}

/** "1:30" → 90, "90m" → 90, "1.5h" / "1,5" → 90, "2" → 120 (small bare numbers are hours); null if unreadable. */
export function parseDuration(text) {
  const value = String(text ?? "").trim().toLowerCase().replace(",", ".");
  let found;
  if ((found = value.match(/^(\d{1,2}):(\d{2})$/))) return Number(found[1]) * 60 + Number(found[2]);
  if ((found = value.match(/^(\d{1,2})h\s*(\d{1,2})m?$/))) return Number(found[1]) * 60 + Number(found[2]);
  if ((found = value.match(/^(\d+)\s*m(in)?$/))) return Number(found[1]);
  if ((found = value.match(/^(\d+(?:\.\d+)?)\s*h?$/))) {
    const number = Number(found[1]);
    return value.endsWith("h") || number <= 12 ? Math.round(number * 60) : Math.round(number);
  }
  return null;
}

export function minutesOf(time) {
  const found = String(time ?? "").match(/^(\d{2}):(\d{2})$/);
  return found ? Number(found[1]) * 60 + Number(found[2]) : null;
}

export function timeOf(minutes) {
  if (minutes === null || minutes < 0 || minutes > 24 * 60) return "";
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

export function formatDuration(minutes) {
  if (minutes === null || minutes <= 0) return "";
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}`;
}
