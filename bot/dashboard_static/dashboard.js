// The server's CSP forbids form submission (form-action 'none'): submit the dashboard's forms with fetch.
"use strict";
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  event.preventDefault();
  const data = new URLSearchParams(new FormData(form));
  const action = form.getAttribute("action") || location.pathname;
  if (form.method.toLowerCase() !== "post") {
    location.assign(action + "?" + data.toString());
    return;
  }
  const response = await fetch(action, { method: "POST", body: data, credentials: "same-origin" });
  if (response.ok) {
    location.assign(response.url);
    return;
  }
  const out = form.querySelector(".form-error");
  let message = String(response.status);
  try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
  if (out) out.textContent = message;
});
