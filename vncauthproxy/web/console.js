// The console viewer page's script: connect noVNC to this proxy's WebSocket with the
// one-time token from the page's URL (?token=...). The token is the authentication,
// so the RFB security type offered over the WebSocket is None.
import RFB from "./novnc/core/rfb.js";

const status = document.getElementById("status");
const cad = document.getElementById("cad");

function show(text, state) {
  status.textContent = text;
  status.dataset.state = state;
}

const params = new URLSearchParams(window.location.search);
const token = params.get("token");
if (!token) {
  show("No console token in the address: ask the API for a new console URL.", "error");
} else {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${window.location.host}/websockify?token=${encodeURIComponent(token)}`;
  show("Connecting\u2026", "connecting");
  const rfb = new RFB(document.getElementById("screen"), url, { wsProtocols: ["binary"] });
  rfb.scaleViewport = true;
  rfb.background = "#222";
  rfb.addEventListener("connect", () => {
    show(`Connected: ${rfb._fbName || "console"}`, "connected");
    cad.disabled = false;
    rfb.focus();
  });
  rfb.addEventListener("disconnect", (e) => {
    cad.disabled = true;
    show(e.detail.clean ? "Disconnected." : "The console connection was refused or lost (a console URL works once).", "disconnected");
  });
  rfb.addEventListener("securityfailure", (e) => show(`Security failure: ${e.detail.reason || e.detail.status}`, "error"));
  rfb.addEventListener("desktopname", (e) => { document.title = `${e.detail.name} - Console`; });
  cad.addEventListener("click", () => rfb.sendCtrlAltDel());
  window.cycladesConsole = rfb;
}
