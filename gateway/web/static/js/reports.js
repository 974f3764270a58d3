// Reports: the time report (table, chart, CSV and XLSX of exactly the table), project progress and a month's
// timesheet, all read from the JSON API with the form's filters. The filters live in the address, so a report
// can be bookmarked and the page shows it again after a reload.

import { announce, api } from "./api.js";
import { barChart, lineChart, progressBar } from "./chart.js";
import { clearErrors, showProblem } from "./forms.js";

const LABELS = {
  user: "User",
  team: "Team",
  customer: "Customer",
  project: "Project",
  activity: "Activity",
  account: "Account",
  ticket: "Ticket",
  day: "Day",
  week: "Week",
  month: "Month",
};
const TIME = new Set(["day", "week", "month"]);
const FILTERS = ["first_day", "last_day", "user_id", "team_id", "customer_id", "project_id", "activity_id", "ticket"];

/** Hours with two decimals, as the CSV and XLSX downloads write them. */
export const hours = (minutes) => (Math.round((Number(minutes) * 100) / 60) / 100).toFixed(2);

function keyText(dimension, key) {
  if (key === null || key === undefined) return "";
  return typeof key === "object" ? String(key.name ?? "") : String(key);
}

function cell(tag, text, className) {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

function row(cells) {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
}

function timeQuery(form) {
  const query = new URLSearchParams();
  for (const name of FILTERS) {
    const value = form.elements.namedItem(name)?.value.trim();
    if (value) query.set(name, value);
  }
  const group = [form.elements.namedItem("group1").value, form.elements.namedItem("group2").value];
  const groupBy = group[0] ? [...new Set(group.filter(Boolean))] : [];
  if (groupBy.length) query.set("group_by", groupBy.join(","));
  return query;
}

function renderTime(report, query) {
  const table = document.getElementById("time-table");
  const [thead, tbody, tfoot] = [table.tHead, table.tBodies[0], table.tFoot];
  const dims = report.group_by;
  thead.replaceChildren(
    row([
      ...dims.map((d) => Object.assign(cell("th", LABELS[d] ?? d), { scope: "col" })),
      ...["Hours", "Entries", "Billable hours", "Non-billable hours"].map((t) =>
        Object.assign(cell("th", t, "num"), { scope: "col" }),
      ),
    ]),
  );
  const sums = (s) => [
    cell("td", hours(s.minutes), "num"),
    cell("td", String(s.entries), "num"),
    cell("td", hours(s.billable_minutes), "num"),
    cell("td", hours(s.non_billable_minutes), "num"),
  ];
  tbody.replaceChildren(
    ...report.rows.map((r) => row([...dims.map((d) => cell("td", keyText(d, r.keys[d]) || "—")), ...sums(r)])),
  );
  if (!report.rows.length) {
    const empty = cell("td", "No time booked that matches.", "muted");
    empty.colSpan = dims.length + 4;
    tbody.replaceChildren(row([empty]));
  }
  const total = Object.assign(cell("th", "Total"), { scope: "row" });
  if (dims.length > 1) total.colSpan = dims.length;
  tfoot.replaceChildren(row([...(dims.length ? [total] : []), ...sums(report.totals)]));

  const charts = document.getElementById("time-charts");
  charts.replaceChildren();
  const byFirst = new Map();
  const overTime = new Map();
  const category = dims.find((d) => !TIME.has(d));
  const time = dims.find((d) => TIME.has(d));
  for (const r of report.rows) {
    if (category) {
      const label = keyText(category, r.keys[category]) || "(none)";
      byFirst.set(label, (byFirst.get(label) ?? 0) + r.minutes);
    }
    if (time) {
      const label = keyText(time, r.keys[time]);
      overTime.set(label, (overTime.get(label) ?? 0) + r.minutes);
    }
  }
  const format = (minutes) => `${hours(minutes)} h`;
  if (byFirst.size) {
    const items = [...byFirst.entries()].sort((a, b) => b[1] - a[1]);
    charts.append(barChart(items, { caption: `Hours per ${LABELS[category].toLowerCase()}`, format }));
  }
  if (overTime.size) {
    const points = [...overTime.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    charts.append(lineChart(points, { caption: `Hours per ${LABELS[time].toLowerCase()}`, format }));
  }
  document.getElementById("time-csv").href = `/api/reports/time.csv?${query}`;
  document.getElementById("time-xlsx").href = `/api/reports/time.xlsx?${query}`;
}

async function showTime(form) {
  const result = document.getElementById("time-result");
  const query = timeQuery(form);
  result.dataset.state = "loading";
  const answer = await api("GET", `/api/reports/time?${query}`);
  if (!answer.ok) {
    showProblem(form, answer.problem);
    result.dataset.state = "failed";
    return;
  }
  clearErrors(form);
  renderTime(answer.data, query);
  result.dataset.state = "ready";
}

async function showProgress(form) {
  const out = document.getElementById("progress-result");
  const projectId = form.elements.namedItem("project_id").value;
  if (!projectId) {
    out.replaceChildren();
    return;
  }
  const answer = await api("GET", `/api/reports/projects/${projectId}/progress`);
  if (!answer.ok) {
    showProblem(form, answer.problem);
    return;
  }
  clearErrors(form);
  const p = answer.data;
  const facts = document.createElement("dl");
  facts.className = "facts";
  const fact = (term, value) => facts.append(cell("dt", term), cell("dd", value));
  fact("Booked", `${hours(p.booked_minutes)} h`);
  fact("Estimate", p.estimation_minutes === null ? "none" : `${hours(p.estimation_minutes)} h`);
  if (p.remaining_minutes !== null) fact("Remaining", `${hours(p.remaining_minutes)} h`);
  if (p.share_used !== null) fact("Used", `${Math.round(p.share_used * 100)} %`);
  const parts = [facts];
  if (p.estimation_minutes) {
    parts.push(progressBar(p.booked_minutes, p.estimation_minutes, `${Math.round(p.share_used * 100)} % of the estimate used`));
  }
  if (p.by_activity.length) {
    const items = p.by_activity.map((a) => [a.activity, a.minutes]);
    parts.push(barChart(items, { caption: "Hours per activity", format: (m) => `${hours(m)} h` }));
  }
  if (p.by_month.length > 1) {
    const points = p.by_month.map((m) => [m.month, m.minutes]);
    parts.push(lineChart(points, { caption: "Hours per month", format: (m) => `${hours(m)} h` }));
  }
  out.replaceChildren(...parts);
  announce(`Progress of ${p.project}.`);
}

async function showSheet(form) {
  const out = document.getElementById("sheet-result");
  const userId = form.elements.namedItem("user_id").value;
  const month = form.elements.namedItem("month").value;
  const path = `/api/reports/users/${userId}/timesheet`;
  const answer = await api("GET", `${path}?month=${encodeURIComponent(month)}`);
  if (!answer.ok) {
    showProblem(form, answer.problem);
    return;
  }
  clearErrors(form);
  const sheet = answer.data;
  const table = document.createElement("table");
  table.className = "report";
  table.dataset.testid = "timesheet";
  const caption = cell("caption", `Timesheet of ${sheet.username}, ${sheet.month}`, "visually-hidden");
  const head = document.createElement("thead");
  head.append(
    row(
      ["Day", "Holiday", "Target", "Booked", "Balance", "Running balance"].map((t, i) =>
        Object.assign(cell("th", t, i > 1 ? "num" : ""), { scope: "col" }),
      ),
    ),
  );
  const body = document.createElement("tbody");
  for (const day of sheet.days) {
    const date = new Date(`${day.day}T00:00:00`);
    const label = date.toLocaleDateString(undefined, { weekday: "short", day: "2-digit", month: "short" });
    body.append(
      row([
        Object.assign(cell("th", label), { scope: "row" }),
        cell("td", day.holiday ?? ""),
        cell("td", hours(day.target_minutes), "num"),
        cell("td", hours(day.booked_minutes), "num"),
        cell("td", hours(day.balance_minutes), "num"),
        cell("td", hours(day.running_balance_minutes), "num"),
      ]),
    );
  }
  const foot = document.createElement("tfoot");
  foot.append(
    row([
      Object.assign(cell("th", "Total"), { scope: "row", colSpan: 2 }),
      cell("td", hours(sheet.target_minutes), "num"),
      cell("td", hours(sheet.booked_minutes), "num"),
      cell("td", hours(sheet.balance_minutes), "num"),
      cell("td", hours(sheet.balance_after_minutes), "num"),
    ]),
  );
  table.append(caption, head, body, foot);
  const summary = cell(
    "p",
    `Balance before the month ${hours(sheet.balance_before_minutes)} h, after it ${hours(sheet.balance_after_minutes)} h.`,
    "small",
  );
  summary.dataset.testid = "timesheet-balance";
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.append(table);
  const links = document.createElement("p");
  links.className = "downloads";
  for (const [kind, label] of [["csv", "Download CSV"], ["xlsx", "Download XLSX"]]) {
    const link = cell("a", label, "button");
    const what = document.createElement("span");
    what.className = "visually-hidden";
    what.textContent = " of the timesheet";
    link.append(what);
    link.href = `${path}.${kind}?month=${encodeURIComponent(month)}`;
    link.setAttribute("download", "");
    links.append(link);
  }
  out.replaceChildren(summary, wrap, links);
}

function restore(form, query) {
  for (const [name, value] of query) {
    const field = form.elements.namedItem(name);
    if (field) field.value = value;
  }
}

export function initReports() {
  const timeForm = document.getElementById("time-form");
  const progressForm = document.getElementById("progress-form");
  const sheetForm = document.getElementById("sheet-form");
  const query = new URLSearchParams(location.search);
  restore(timeForm, query);
  for (const [form, show] of [
    [timeForm, showTime],
    [progressForm, showProgress],
    [sheetForm, showSheet],
  ]) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const state = new URLSearchParams();
      for (const element of [...timeForm.elements, ...progressForm.elements, ...sheetForm.elements]) {
        if (element.name && element.value) state.set(element.name, element.value);
      }
      history.replaceState(null, "", `${location.pathname}?${state}`);
      await show(form);
    });
  }
  restore(progressForm, query);
  restore(sheetForm, query);
  showTime(timeForm);
  if (progressForm.elements.namedItem("project_id").value) showProgress(progressForm);
  showSheet(sheetForm);
  return {};
}
