// The pages' one entry point: live updates for every page, then what the page itself needs.

import { initAdminLinks, initAdminSync } from "./admin.js";
import { initAdminTicketSystem } from "./admin_ticket_system.js";
import { connectLive } from "./live.js";
import { initMasterData } from "./master_data.js";
import { initReports } from "./reports.js";
import { initTicketSystems } from "./ticket_systems.js";
import { initWeek } from "./week.js";

function showLocalTimes(root = document) {
  for (const element of root.querySelectorAll("time[data-local]:not([data-shown])")) {
    element.dataset.shown = "";
    const moment = new Date(element.getAttribute("datetime"));
    if (!Number.isNaN(moment.getTime())) {
      element.textContent = moment.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      element.title = element.getAttribute("datetime");
    }
  }
}

const page = document.body.dataset.page;
const PAGES = {
  week: initWeek,
  "ticket-systems": initTicketSystems,
  "admin-ticket-system": initAdminTicketSystem,
  "admin-links": initAdminLinks,
  "admin-sync": initAdminSync,
  reports: initReports,
  "master-data": initMasterData,
};
const handlers = PAGES[page]?.() ?? {};
showLocalTimes();
const main = document.getElementById("main");
new MutationObserver(() => showLocalTimes()).observe(main, { childList: true, subtree: true });

if (document.getElementById("live-status")) {
  connectLive({
    onEntry: (event) => handlers.onEntry?.(event),
    onLink: (event) => handlers.onLink?.(event),
    onResync: () => handlers.onResync?.(),
  });
}
