// Broadcast from the browser: preview the recipients, send, then follow the delivery counts live.
// Listens in the capture phase so that dashboard.js's generic form handler does not see these forms.
"use strict";

async function broadcastError(response) {
  try { return (await response.json()).error.message; } catch (e) { return String(response.status); }
}

async function postForm(form, action) {
  const out = form.querySelector(".form-error");
  out.textContent = "";
  const response = await fetch(action, {
    method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
  });
  if (!response.ok) {
    await showError(out, response);  // dashboard.js: the message, and the login link on an expired session
    return null;
  }
  return response.text();
}

const POLL_MS = 1000;

function followDelivery(box) {
  const url = box.dataset.status;
  if (!url || box.dataset.following) return;
  box.dataset.following = "1";
  const tick = async () => {
    let report = null;
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.ok) report = await response.json();
    } catch (e) { /* offline for a moment: try again */ }
    if (report !== null) {
      for (const cell of box.querySelectorAll("[data-key]")) {
        const key = cell.dataset.key;
        const value = key === "status" ? report.status_label : report[key];
        if (value !== undefined && cell.textContent !== String(value)) cell.textContent = String(value);
      }
      if (report.status === "done" && report.pending === 0) {
        box.classList.add("finished");
        return;
      }
    }
    setTimeout(tick, POLL_MS);
  };
  tick();
}

window.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("broadcast")) return;
  event.preventDefault();
  event.stopPropagation();
  const target = document.getElementById("broadcast-preview");
  target.innerHTML = "";
  const html = await postForm(form, form.getAttribute("action"));
  if (html !== null) target.innerHTML = html;  // rendered and escaped by the server's templates
}, true);

document.addEventListener("click", async (event) => {
  const button = event.target;
  if (!(button instanceof HTMLButtonElement) || !button.classList.contains("send-button")) return;
  const form = document.querySelector("form.broadcast");
  button.disabled = true;
  const html = await postForm(form, form.dataset.send);
  if (html === null) { button.disabled = false; return; }
  const target = document.getElementById("broadcast-preview");
  target.innerHTML = html;
  const box = target.querySelector(".delivery");
  if (box) followDelivery(box);
});

document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll(".delivery[data-status]")) followDelivery(box);
});
