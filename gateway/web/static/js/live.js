// The live-update stream. EventSource reconnects on its own after a dropped connection; when the server refused
// the stream (say, during a restart) we open a new one after a pause. After any reconnect, and when the server
// says events were missed ("resync"), the page reads its current state again.

const RETRY_MS = [1000, 2000, 5000, 10000, 30000];

export function connectLive({ onEntry, onLink, onResync }) {
  const status = document.getElementById("live-status");
  let attempt = 0;
  let everOpen = false;
  let source = null;

  const show = (state, text) => {
    if (!status) return;
    status.dataset.state = state;
    status.querySelector(".live-text").textContent = text;
  };

  const open = () => {
    source = new EventSource(document.body.dataset.live ?? "/live");
    source.addEventListener("ready", () => {
      const reconnected = everOpen;
      everOpen = true;
      attempt = 0;
      show("live", "Live");
      if (reconnected) onResync();
    });
    source.addEventListener("entry", (message) => onEntry?.(JSON.parse(message.data)));
    source.addEventListener("link", (message) => onLink?.(JSON.parse(message.data)));
    source.addEventListener("resync", () => onResync());
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        show("offline", "Offline, retrying…");
        const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
        attempt += 1;
        window.setTimeout(open, wait);
      } else {
        show("reconnecting", "Reconnecting…");
      }
    });
  };

  open();
  window.addEventListener("pagehide", () => source?.close());
}
